// The support console: the queue (live), one case with its thread (live,
// from the case's cursor), replies with standard answers, claim, escalate,
// wait, close; for second line also deviations and service notices.
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, authv1, createClient, supportv1 } from "@nara/sdk";
import * as auth from "./auth.js";
import type { View } from "./app.js";
import { $, age, busy, clearError, el, showError, when } from "./ui.js";

const desk = createClient(supportv1.SupportDeskService, auth.transport);
const citizenSide = createClient(supportv1.SupportService, auth.transport);

const categoryNames: Record<supportv1.Category, string> = {
  [supportv1.Category.UNSPECIFIED]: "–",
  [supportv1.Category.TECHNICAL]: "Teknik",
  [supportv1.Category.BOOKING]: "Bokning",
  [supportv1.Category.VACCINATION]: "Vaccination",
  [supportv1.Category.VIDEO_VISIT]: "Videobesök",
  [supportv1.Category.MEDICAL]: "Medicinsk fråga",
  [supportv1.Category.OTHER]: "Övrigt",
};
const stateNames: Record<supportv1.CaseState, string> = {
  [supportv1.CaseState.UNSPECIFIED]: "–",
  [supportv1.CaseState.NEW]: "Ny",
  [supportv1.CaseState.OPEN]: "Pågående",
  [supportv1.CaseState.WAITING_FOR_CITIZEN]: "Väntar på medborgaren",
  [supportv1.CaseState.ESCALATED]: "Eskalerad",
  [supportv1.CaseState.CLOSED]: "Stängd",
};
const lineNames: Record<supportv1.Line, string> = {
  [supportv1.Line.UNSPECIFIED]: "–",
  [supportv1.Line.FIRST]: "första linjen",
  [supportv1.Line.SECOND]: "andra linjen",
  [supportv1.Line.EXTERNAL]: "extern andra linje",
};
const closeReasonNames: Record<supportv1.CloseReason, string> = {
  [supportv1.CloseReason.UNSPECIFIED]: "",
  [supportv1.CloseReason.RESOLVED]: "löst",
  [supportv1.CloseReason.REFERRED_TO_1177]: "hänvisad till 1177",
  [supportv1.CloseReason.DUPLICATE]: "dubblett",
  [supportv1.CloseReason.NO_RESPONSE]: "inget svar",
  [supportv1.CloseReason.ABUSE]: "missbruk",
  [supportv1.CloseReason.OTHER]: "annat",
};
const deviationStatusNames: Record<supportv1.DeviationStatus, string> = {
  [supportv1.DeviationStatus.UNSPECIFIED]: "–",
  [supportv1.DeviationStatus.OPEN]: "Öppen",
  [supportv1.DeviationStatus.INVESTIGATING]: "Utreds",
  [supportv1.DeviationStatus.RESOLVED]: "Åtgärdad",
};

const date = (t: Timestamp | undefined) => (t ? timestampDate(t) : undefined);
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
  });
const newKey = () => crypto.randomUUID();
const caseCount = (n: number) => `${n} ${n === 1 ? "ärende" : "ärenden"}`;

/**
 * follow keeps a server stream open until signal aborts: it calls open for
 * a new stream whenever one ends (the server ends them after ten minutes)
 * or breaks (after a pause that grows to 15 s), renews the session when it
 * has expired, and gives up on errors that a retry cannot mend.
 */
async function follow<T>(
  open: (signal: AbortSignal) => AsyncIterable<T>,
  onMessage: (m: T) => void,
  status: HTMLElement,
  error: HTMLElement,
  signal: AbortSignal,
): Promise<void> {
  let pause = 1000;
  while (!signal.aborted) {
    try {
      for await (const m of open(signal)) {
        status.textContent = "";
        pause = 1000;
        onMessage(m);
      }
    } catch (e) {
      if (signal.aborted) return;
      const code = ConnectError.from(e).code;
      if (code === Code.Unauthenticated) {
        if ((await auth.refresh()) === null) return;
        continue;
      }
      if (code === Code.PermissionDenied || code === Code.InvalidArgument || code === Code.NotFound) {
        showError(error, e);
        return;
      }
      status.textContent = "Anslutningen bröts; ansluter igen …";
      await sleep(pause, signal);
      pause = Math.min(pause * 2, 15_000);
    }
  }
}

// ---- The queue -----------------------------------------------------------------

let queueWatch: AbortController | undefined;

function queueLine(): supportv1.Line {
  return Number($<HTMLSelectElement>("queue-line").value) as supportv1.Line;
}

function slaCell(c: supportv1.DeskCase): HTMLTableCellElement {
  const due = date(c.firstAnswerDueTime);
  const answered = date(c.firstAnswerTime);
  const td = el("td");
  if (answered) {
    td.textContent = `Besvarad ${when(answered)}`;
    if (c.slaBreached) td.append(el("span", { className: "breached", text: " (sent)" }));
  } else if (c.slaBreached) {
    td.append(el("span", { className: "breached", text: `Försenad, senast ${when(due)}` }));
  } else {
    td.textContent = due ? `Senast ${when(due)}` : "–";
  }
  td.className = "sla";
  return td;
}

function renderQueue(cases: supportv1.DeskCase[]): void {
  const rows = cases.map((dc) => {
    const c = dc.case!;
    const open = el("button", { className: "link", text: c.subject || "(utan ämne)" });
    open.type = "button";
    open.addEventListener("click", () => void openCase(c.id));
    const who = dc.guest ? "gäst" : dc.citizenName;
    const tr = el(
      "tr",
      {},
      el("td", {}, open, el("br"), el("span", { className: "note", text: `${stateNames[c.state]}${who ? " · " + who : ""}` })),
      el("td", { text: categoryNames[c.category] ?? "–" }),
      el("td", { text: age(date(c.createTime)) }),
      slaCell(dc),
      el("td", { className: "assignee", text: c.assigneeName || "–" }),
    );
    tr.dataset.caseId = c.id;
    if (c.id === opened?.id) tr.classList.add("selected");
    return tr;
  });
  $("queue-rows").replaceChildren(...rows);
  $("queue-empty").hidden = rows.length > 0;
  $("queue-status").textContent = `${caseCount(rows.length)}, uppdaterad ${when(new Date())}`;
}

function watchQueue(): void {
  queueWatch?.abort();
  const controller = new AbortController();
  queueWatch = controller;
  const req = { line: queueLine(), mine: $<HTMLInputElement>("queue-mine").checked };
  clearError($("queue-error"));
  void (async () => {
    // The first look is a plain read (renewed like any call); the stream
    // sends the whole queue again at every change.
    try {
      renderQueue((await desk.listQueue(req, { signal: controller.signal })).cases);
    } catch (e) {
      if (!controller.signal.aborted) showError($("queue-error"), e);
    }
    await follow(
      (signal) => desk.watchQueue(req, { signal }),
      (res) => renderQueue(res.cases),
      $("queue-status"),
      $("queue-error"),
      controller.signal,
    );
  })();
}

// ---- One case -------------------------------------------------------------------

interface Opened {
  id: string;
  desk: supportv1.DeskCase;
  /** The last event seen: the cursor to watch after. */
  cursor: bigint;
  seen: Set<bigint>;
  watch: AbortController;
  /** The standard answer the reply is written from. */
  answer?: supportv1.StandardAnswer;
  replyKey: string;
}

let opened: Opened | undefined;

function closeOpened(): void {
  opened?.watch.abort();
  stopTyping();
  opened = undefined;
}

async function openCase(id: string): Promise<void> {
  closeOpened();
  for (const tr of $("queue-rows").querySelectorAll("tr")) tr.classList.toggle("selected", tr.dataset.caseId === id);
  clearError($("case-action-error"));
  let res: supportv1.SupportDeskServiceGetCaseResponse;
  try {
    res = await desk.getCase({ caseId: id });
  } catch (e) {
    showError($("queue-error"), e);
    return;
  }
  const watch = new AbortController();
  opened = { id, desk: res.case!, cursor: 0n, seen: new Set(), watch, replyKey: newKey() };
  $("thread").replaceChildren();
  $("typing").textContent = "";
  $<HTMLTextAreaElement>("reply-text").value = "";
  $<HTMLTextAreaElement>("escalate-note").value = "";
  chooseAnswer(undefined);
  for (const form of ["reply-error", "escalate-error", "close-error", "flag-error"]) clearError($(form));
  $("flag-status").textContent = "";
  addEvents(res.events);
  // The case's cursor: its newest event, which GetCase's thread ends with.
  const last = res.case?.case?.lastEvent ?? 0n;
  if (last > opened.cursor) opened.cursor = last;
  renderCase();
  $("case-none").hidden = true;
  $("case").hidden = false;
  void loadAnswers("");
  const mine = opened;
  void follow(
    (signal) => desk.watchCase({ caseId: id, after: mine.cursor }, { signal }),
    (m) => onCaseEvents(mine, m),
    $("watch-status"),
    $("case-action-error"),
    watch.signal,
  );
}

function onCaseEvents(o: Opened, m: supportv1.SupportDeskServiceWatchCaseResponse): void {
  if (o !== opened) return;
  const changed = addEvents(m.events);
  if (m.nextAfter > o.cursor) o.cursor = m.nextAfter;
  $("typing").textContent = m.otherTyping ? "Medborgaren skriver …" : "";
  if (changed.state || m.state !== o.desk.case?.state) void reloadCase(o);
  if (changed.citizen) void desk.markRead({ caseId: o.id, upTo: o.cursor }).catch(() => undefined);
}

/** reloadCase reads the case's facts again after its state changed. */
async function reloadCase(o: Opened): Promise<void> {
  try {
    const res = await desk.getCase({ caseId: o.id });
    if (o !== opened) return;
    o.desk = res.case!;
    renderCase();
  } catch (e) {
    showError($("case-action-error"), e);
  }
}

function describeState(s: supportv1.StateChange): string {
  switch (s.state) {
    case supportv1.CaseState.ESCALATED:
      return `Eskalerat till ${lineNames[s.line]}`;
    case supportv1.CaseState.CLOSED:
      return `Stängt${s.closeReason ? ": " + closeReasonNames[s.closeReason] : ""}`;
    case supportv1.CaseState.WAITING_FOR_CITIZEN:
      return "Väntar på medborgaren";
  }
  return s.assigneeName ? `${s.assigneeName} har ärendet (${lineNames[s.line]})` : `${stateNames[s.state]} (${lineNames[s.line]})`;
}

/** addEvents appends the events not yet shown, in order. */
function addEvents(events: supportv1.Event[]): { state: boolean; citizen: boolean } {
  const o = opened!;
  const changed = { state: false, citizen: false };
  const items: HTMLLIElement[] = [];
  for (const e of [...events].sort((a, b) => (a.seq < b.seq ? -1 : 1))) {
    if (o.seen.has(e.seq)) continue;
    o.seen.add(e.seq);
    const t = when(date(e.createTime));
    if (e.message) {
      const msg = e.message;
      const citizen = msg.author === supportv1.Party.CITIZEN;
      changed.citizen ||= citizen;
      const who = citizen ? o.desk.citizenName || "Medborgaren" : msg.authorName || "Support";
      const extra = msg.standardAnswerId ? ` · standardsvar v${msg.standardAnswerVersion}` : "";
      const channel = msg.channel === supportv1.Channel.EMAIL ? " · e-post" : "";
      const li = el("li", { className: citizen ? "citizen" : "support" }, el("span", { className: "who", text: `${who}, ${t}${channel}${extra}` }), el("span", { className: "text", text: msg.text }));
      li.dataset.seq = String(e.seq);
      items.push(li);
    } else if (e.stateChange) {
      changed.state = true;
      const li = el("li", { className: "state", text: `${describeState(e.stateChange)} · ${t}` });
      li.dataset.seq = String(e.seq);
      items.push(li);
    }
  }
  const thread = $("thread");
  thread.append(...items);
  if (items.length > 0) thread.scrollTop = thread.scrollHeight;
  return changed;
}

function renderCase(): void {
  const o = opened!;
  const dc = o.desk;
  const c = dc.case!;
  $("case-title").textContent = c.subject || "(utan ämne)";
  const facts: Array<[string, string]> = [
    ["Medborgare", dc.guest ? `Gäst${dc.citizenEmail ? " (" + dc.citizenEmail + ")" : ""}` : dc.citizenName || "–"],
    ["Kategori", categoryNames[c.category]],
    ["Status", stateNames[c.state] + (c.closeReason ? `: ${closeReasonNames[c.closeReason]}` : "")],
    ["Linje", lineNames[c.line] + (dc.externalParty ? ` (${dc.externalParty})` : "")],
    ["Handläggare", c.assigneeName || "–"],
    ["Öppnat", `${when(date(c.createTime))} (${age(date(c.createTime))} sedan)`],
    ...(dc.deviationId ? ([["Avvikelse", "flaggad"]] as Array<[string, string]>) : []),
    ["Första svar", dc.firstAnswerTime ? when(date(dc.firstAnswerTime)) : `senast ${when(date(dc.firstAnswerDueTime))}${dc.slaBreached ? " – försenat" : ""}`],
  ];
  $("case-facts").replaceChildren(...facts.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })]));
  $("case").dataset.state = supportv1.CaseState[c.state];
  $("case").dataset.line = supportv1.Line[c.line];
  const closed = c.state === supportv1.CaseState.CLOSED;
  const mine = dc.assigneeHsaId !== "" && dc.assigneeHsaId === auth.current()?.hsaId;
  $<HTMLButtonElement>("case-claim").disabled = closed || mine;
  $<HTMLButtonElement>("case-waiting").disabled = closed || c.state === supportv1.CaseState.WAITING_FOR_CITIZEN;
  $("reply-form").hidden = closed;
  $("close-form").hidden = closed;
  $("flag-form").hidden = closed || dc.deviationId !== "";
  $("escalate-form").hidden = closed || c.line !== supportv1.Line.FIRST;
}

/** act runs a change of the open case and shows the case it returns. */
async function act(form: HTMLElement, error: HTMLElement, fn: (caseId: string) => Promise<supportv1.DeskCase | undefined>, fields: Record<string, string> = {}): Promise<boolean> {
  const o = opened;
  if (!o) return false;
  clearError(error, ...Object.values(fields));
  try {
    const dc = await busy(form, () => fn(o.id));
    if (dc && o === opened) {
      o.desk = dc;
      renderCase();
    }
    return true;
  } catch (e) {
    showError(error, e, fields);
    return false;
  }
}

// ---- Typing ------------------------------------------------------------------------

let typingSent = 0;
let typingStop: ReturnType<typeof setTimeout> | undefined;

function typing(): void {
  const o = opened;
  if (!o) return;
  const now = Date.now();
  // The server shows typing for a few seconds: tell it again every three.
  if (now - typingSent > 3000) {
    typingSent = now;
    void desk.setTyping({ caseId: o.id, typing: true }).catch(() => undefined);
  }
  clearTimeout(typingStop);
  typingStop = setTimeout(stopTyping, 5000);
}

function stopTyping(): void {
  clearTimeout(typingStop);
  typingStop = undefined;
  if (typingSent !== 0 && opened) void desk.setTyping({ caseId: opened.id, typing: false }).catch(() => undefined);
  typingSent = 0;
}

// ---- Standard answers ------------------------------------------------------------------

async function loadAnswers(query: string): Promise<void> {
  clearError($("answer-error"));
  try {
    const answers = query
      ? (await desk.searchStandardAnswers({ query, pageSize: 10 })).answers
      : (await desk.listStandardAnswers({})).answers;
    const items = answers.map((a) => {
      const insert = el("button", { className: "secondary", text: "Infoga" });
      insert.type = "button";
      insert.setAttribute("aria-label", `Infoga ${a.title}`);
      insert.addEventListener("click", () => insertAnswer(a));
      const li = el("li", {}, el("span", {}, el("strong", { text: a.title }), ` · ${categoryNames[a.category]} · v${a.version}`), insert);
      li.dataset.answerId = a.id;
      return li;
    });
    if (items.length === 0) items.push(el("li", { text: query ? "Inga standardsvar hittades." : "Inga standardsvar ännu." }));
    $("answer-list").replaceChildren(...items);
  } catch (e) {
    showError($("answer-error"), e);
  }
}

function insertAnswer(a: supportv1.StandardAnswer): void {
  const text = $<HTMLTextAreaElement>("reply-text");
  text.value = text.value.trim() ? `${text.value.trimEnd()}\n\n${a.body}` : a.body;
  chooseAnswer(a);
  text.focus();
}

function chooseAnswer(a: supportv1.StandardAnswer | undefined): void {
  if (opened) opened.answer = a;
  $("answer-chosen").textContent = a
    ? `Standardsvar ”${a.title}”, version ${a.version}, följer med svaret. Platshållare som {förnamn} fylls i när det skickas.`
    : "";
}

// ---- Second line -----------------------------------------------------------------------------

async function loadDeviations(): Promise<void> {
  clearError($("deviations-error"));
  try {
    const { deviations } = await desk.listDeviations({});
    const items = deviations.map((d) => {
      const select = el("select");
      select.setAttribute("aria-label", `Status för ${d.title}`);
      for (const s of [supportv1.DeviationStatus.OPEN, supportv1.DeviationStatus.INVESTIGATING, supportv1.DeviationStatus.RESOLVED]) {
        const opt = el("option", { text: deviationStatusNames[s] });
        opt.value = String(s);
        opt.selected = s === d.status;
        select.append(opt);
      }
      const save = el("button", { className: "secondary", text: "Spara status" });
      save.type = "button";
      const error = el("p", { className: "error" });
      error.setAttribute("role", "alert");
      save.addEventListener("click", async () => {
        clearError(error);
        try {
          await desk.setDeviationStatus({ deviationId: d.id, status: Number(select.value) as supportv1.DeviationStatus });
          await loadDeviations();
        } catch (e) {
          showError(error, e);
        }
      });
      const li = el("li", {}, el("strong", { text: d.title }), ` · ${caseCount(d.caseIds.length)} · `, select, " ", save, error);
      if (d.description) li.insertBefore(el("div", { className: "note", text: d.description }), select);
      li.dataset.deviationId = d.id;
      return li;
    });
    $("deviation-list").replaceChildren(...items);
    $("deviations-empty").hidden = items.length > 0;
    const none = el("option", { text: "Ingen" });
    none.value = "";
    $("notice-deviation").replaceChildren(
      none,
      ...deviations.map((d) => {
        const o = el("option", { text: d.title });
        o.value = d.id;
        return o;
      }),
    );
  } catch (e) {
    showError($("deviations-error"), e);
  }
}

async function loadNotices(): Promise<void> {
  clearError($("notices-error"));
  try {
    const { notices } = await citizenSide.listServiceNotices({});
    const items = notices.map((n) => {
      const withdraw = el("button", { className: "secondary", text: "Dra tillbaka" });
      withdraw.type = "button";
      const error = el("p", { className: "error" });
      error.setAttribute("role", "alert");
      withdraw.addEventListener("click", async () => {
        clearError(error);
        try {
          await desk.withdrawServiceNotice({ noticeId: n.id });
          await loadNotices();
        } catch (e) {
          showError(error, e);
        }
      });
      const li = el("li", {}, el("strong", { text: n.title }), ` (sedan ${when(date(n.publishTime))}) `, withdraw, el("div", { className: "note", text: n.body }), error);
      li.dataset.noticeId = n.id;
      return li;
    });
    if (items.length === 0) items.push(el("li", { text: "Ingen driftinformation publicerad." }));
    $("notice-list").replaceChildren(...items);
  } catch (e) {
    showError($("notices-error"), e);
  }
}

// ---- Wiring ------------------------------------------------------------------------------------

function wire(): void {
  $("queue-line").addEventListener("change", () => watchQueue());
  $("queue-mine").addEventListener("change", () => watchQueue());
  $("case-claim").addEventListener("click", () =>
    void act($("case"), $("case-action-error"), async (caseId) => (await desk.claimCase({ caseId })).case),
  );
  $("case-waiting").addEventListener("click", () =>
    void act($("case"), $("case-action-error"), async (caseId) => (await desk.setWaiting({ caseId })).case),
  );
  $("reply-text").addEventListener("input", typing);
  $("answer-search").addEventListener("click", () => void loadAnswers($<HTMLInputElement>("answer-query").value.trim()));
  $("answer-query").addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      void loadAnswers($<HTMLInputElement>("answer-query").value.trim());
    }
  });
  $<HTMLFormElement>("reply-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const o = opened;
    if (!o) return;
    stopTyping();
    const text = $<HTMLTextAreaElement>("reply-text");
    void act(
      $("reply-form"),
      $("reply-error"),
      async (caseId) => {
        const res = await desk.reply({
          caseId,
          text: text.value,
          // The same key until the reply is through: a repeat sends it once.
          idempotencyKey: o.replyKey,
          standardAnswerId: o.answer?.id ?? "",
          standardAnswerVersion: o.answer?.version ?? 0,
          waitForCitizen: $<HTMLInputElement>("reply-wait").checked,
        });
        if (res.event && o === opened) addEvents([res.event]);
        o.replyKey = newKey();
        text.value = "";
        $<HTMLInputElement>("reply-wait").checked = false;
        chooseAnswer(undefined);
        // A reply can change the case without a state change: its first
        // answer, and an assignee when it had none.
        return (await desk.getCase({ caseId })).case;
      },
      { text: "reply-text" },
    );
  });
  $<HTMLFormElement>("escalate-form").addEventListener("submit", (e) => {
    e.preventDefault();
    void act(
      $("escalate-form"),
      $("escalate-error"),
      async (caseId) =>
        (await desk.escalate({ caseId, line: supportv1.Line.SECOND, note: $<HTMLTextAreaElement>("escalate-note").value })).case,
      { note: "escalate-note" },
    );
  });
  $<HTMLFormElement>("flag-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const title = $<HTMLInputElement>("flag-title");
    $("flag-status").textContent = "";
    void act(
      $("flag-form"),
      $("flag-error"),
      async (caseId) => {
        const { deviation } = await desk.flagDeviation({ caseId, title: title.value.trim() });
        $("flag-status").textContent = `Flaggad som avvikelse: ${deviation?.title ?? ""}`;
        title.value = "";
        if (auth.hasRole(authv1.Role.SUPPORT_SECOND_LINE)) void loadDeviations();
        return (await desk.getCase({ caseId })).case;
      },
      { title: "flag-title" },
    );
  });
  $<HTMLFormElement>("close-form").addEventListener("submit", (e) => {
    e.preventDefault();
    void act(
      $("close-form"),
      $("close-error"),
      async (caseId) =>
        (
          await desk.closeCase({
            caseId,
            reason: Number($<HTMLSelectElement>("close-reason").value) as supportv1.CloseReason,
            note: $<HTMLInputElement>("close-note").value,
          })
        ).case,
      { reason: "close-reason", note: "close-note" },
    );
  });
  $<HTMLFormElement>("notice-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const error = $("notice-error");
    clearError(error, "notice-title");
    try {
      await busy($("notice-form"), () =>
        desk.publishServiceNotice({
          title: $<HTMLInputElement>("notice-title").value.trim(),
          body: $<HTMLTextAreaElement>("notice-body").value,
          deviationId: $<HTMLSelectElement>("notice-deviation").value,
        }),
      );
      $<HTMLInputElement>("notice-title").value = "";
      $<HTMLTextAreaElement>("notice-body").value = "";
      await loadNotices();
    } catch (err) {
      showError(error, err, { title: "notice-title" });
    }
  });
}

let wired = false;

export const supportView: View = {
  path: "support",
  title: "Support",
  section: "view-support",
  roles: [authv1.Role.SUPPORT_FIRST_LINE, authv1.Role.SUPPORT_SECOND_LINE],
  show() {
    if (!wired) {
      wire();
      wired = true;
      // Second line starts at its own queue.
      if (auth.hasRole(authv1.Role.SUPPORT_SECOND_LINE)) $<HTMLSelectElement>("queue-line").value = String(supportv1.Line.SECOND);
    }
    const second = auth.hasRole(authv1.Role.SUPPORT_SECOND_LINE);
    $("second-line").hidden = !second;
    watchQueue();
    if (second) {
      void loadDeviations();
      void loadNotices();
    }
  },
  hide() {
    queueWatch?.abort();
    queueWatch = undefined;
    closeOpened();
    $("case").hidden = true;
    $("case-none").hidden = false;
  },
};
