// Small DOM helpers the views share.
import { Code, ConnectError, fieldViolations } from "@nara/sdk";

export const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

/** el makes an element with a class and text or children. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { className?: string; text?: string } = {},
  ...children: Array<Node | string>
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (props.className) e.className = props.className;
  if (props.text !== undefined) e.textContent = props.text;
  e.append(...children);
  return e;
}

/** message is what to tell staff about a failed call: the server's own words. */
export function message(e: unknown): string {
  const err = ConnectError.from(e);
  if (err.code === Code.Unavailable) return "Tjänsten går inte att nå just nu; försök igen.";
  if (err.code === Code.Unauthenticated) return "Din inloggning har gått ut; logga in igen.";
  return err.rawMessage || err.message;
}

/**
 * showError writes a failed call's message next to the form that made it,
 * with each field violation on a line of its own, and marks the fields.
 * fields maps a request field to the id of its input.
 */
export function showError(target: HTMLElement, e: unknown, fields: Record<string, string> = {}): void {
  const violations = fieldViolations(e);
  target.replaceChildren(message(e));
  if (violations.length > 0) {
    target.append(el("ul", {}, ...violations.map((v) => el("li", { text: `${v.field}: ${v.message}` }))));
    for (const v of violations) {
      const id = fields[v.field];
      if (id) $(id).setAttribute("aria-invalid", "true");
    }
  }
}

/** clearError empties an error line and unmarks fields. */
export function clearError(target: HTMLElement, ...fieldIds: string[]): void {
  target.replaceChildren();
  for (const id of fieldIds) $(id).removeAttribute("aria-invalid");
}

/** busy disables a form's buttons while fn runs. */
export async function busy<T>(form: HTMLElement, fn: () => Promise<T>): Promise<T> {
  const buttons = [...form.querySelectorAll("button")];
  buttons.forEach((b) => (b.disabled = true));
  try {
    return await fn();
  } finally {
    buttons.forEach((b) => (b.disabled = false));
  }
}

const clock = new Intl.DateTimeFormat("sv-SE", { hour: "2-digit", minute: "2-digit", timeZone: "Europe/Stockholm" });
const dayClock = new Intl.DateTimeFormat("sv-SE", {
  day: "numeric",
  month: "short",
  hour: "2-digit",
  minute: "2-digit",
  timeZone: "Europe/Stockholm",
});

/** when formats a time as staff read it: 14:05 today, 3 juni 14:05 otherwise. */
export function when(d: Date | undefined): string {
  if (!d) return "";
  const today = new Date().toDateString() === d.toDateString();
  return today ? clock.format(d) : dayClock.format(d);
}

/** age says how long ago d was: "12 min", "3 h 5 min", "2 d". */
export function age(d: Date | undefined, now = Date.now()): string {
  if (!d) return "";
  const min = Math.max(0, Math.floor((now - d.getTime()) / 60000));
  if (min < 60) return `${min} min`;
  if (min < 24 * 60) return `${Math.floor(min / 60)} h ${min % 60} min`;
  return `${Math.floor(min / (24 * 60))} d`;
}
