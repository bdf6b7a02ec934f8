// The staff web app on @nara/sdk, without a framework: one layout (header
// with who is logged in, nav) and one staff login for every view. Views are
// sections of index.html listed in `views` below; the support console is the
// first, the waiting room ("Väntrum") and statistics ("Statistik") come the
// same way. `npm run staff` bundles it with esbuild and serves it;
// ?api=<url> names the server, which must allow this origin
// (NARA_CORS_ORIGINS) and send staff logins back here (OIDC_REDIRECT_URL).
import { authv1 } from "@nara/sdk";
import * as auth from "./auth.js";
import { supportView } from "./support.js";
import { $, el, message } from "./ui.js";

/** View is one page of the app, shown to the roles it names. */
export interface View {
  /** The hash route, #/<path>. */
  path: string;
  title: string;
  /** The id of its section in index.html. */
  section: string;
  roles: authv1.Role[];
  /** show starts the view (streams, lists); hide stops it. */
  show(): void;
  hide(): void;
}

const views: View[] = [supportView];

const roleNames: Partial<Record<authv1.Role, string>> = {
  [authv1.Role.SUPPORT_FIRST_LINE]: "Support, första linjen",
  [authv1.Role.SUPPORT_SECOND_LINE]: "Support, andra linjen",
  [authv1.Role.CLINICIAN]: "Vårdpersonal",
  [authv1.Role.UNIT_ADMIN]: "Enhetsadministratör",
  [authv1.Role.REGION_ADMIN]: "Regionadministratör",
};

let shown: View | undefined;

function allowed(): View[] {
  return views.filter((v) => v.roles.some((r) => auth.hasRole(r)));
}

/** route shows the view the hash names, or the first one allowed. */
function route(): void {
  const staff = auth.current();
  $("login-view").hidden = staff !== undefined;
  $("nav").hidden = $("me").hidden = staff === undefined;
  const mine = staff ? allowed() : [];
  const path = location.hash.replace(/^#\//, "");
  const next = mine.find((v) => v.path === path) ?? mine[0];
  if (shown && shown !== next) {
    shown.hide();
    $(shown.section).hidden = true;
  }
  for (const a of $("nav-list").querySelectorAll("a")) {
    if (a.getAttribute("href") === `#/${next?.path}`) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  if (next && shown !== next) {
    $(next.section).hidden = false;
    document.title = `${next.title} – Nära personal`;
    shown = next;
    next.show();
  } else if (!next) {
    shown = undefined;
    if (staff) $("login-error").textContent = "Du har ingen roll som den här appen har vyer för.";
  }
}

function layout(staff: auth.Staff | undefined): void {
  $("me-name").textContent = staff?.name ?? "";
  $("me-role").textContent = (staff?.roles ?? [])
    .map((r) => roleNames[r])
    .filter(Boolean)
    .join(", ");
  $("nav-list").replaceChildren(
    ...(staff ? allowed() : []).map((v) => {
      const a = el("a", { text: v.title });
      a.href = `#/${v.path}`;
      return el("li", {}, a);
    }),
  );
  route();
}

async function start(): Promise<void> {
  $("login-start").addEventListener("click", async () => {
    $("login-error").textContent = "";
    $("login-status").textContent = "Skickar dig till inloggningen …";
    try {
      await auth.startLogin();
    } catch (e) {
      $("login-status").textContent = "";
      $("login-error").textContent = message(e);
    }
  });
  $<HTMLFormElement>("login-paste-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("login-paste-error").textContent = "";
    try {
      await auth.finishPasted($<HTMLTextAreaElement>("login-paste-body").value);
    } catch (e) {
      $("login-paste-error").textContent = e instanceof Error && !("code" in e) ? e.message : message(e);
    }
  });
  $("logout").addEventListener("click", () => void auth.logout());
  auth.onChange(layout);
  window.addEventListener("hashchange", route);

  try {
    if (await auth.finishRedirect()) $("login-status").textContent = "";
  } catch (e) {
    $("login-error").textContent = e instanceof Error && !("code" in e) ? e.message : message(e);
  }
  layout(auth.current());
  document.body.dataset.ready = "true";
}

void start();
