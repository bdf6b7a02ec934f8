import { Code, ConnectError } from "@connectrpc/connect";
import type { Interceptor, Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";

/**
 * TokenProvider returns the current session token, or nothing when the user
 * is not logged in. It is called before every request, so it should read
 * from memory (or a fast store), not from the network.
 */
export type TokenProvider = () =>
  | string
  | null
  | undefined
  | Promise<string | null | undefined>;

/**
 * RefreshSession obtains a new session token after the server answered
 * Unauthenticated, stores it where the TokenProvider reads it, and returns it.
 * It returns nothing when the session cannot be renewed (the user must log in
 * again); the Unauthenticated error then reaches the caller. The app supplies
 * it (typically calling SessionService.RefreshSession through a transport
 * without a session) because only the app knows where the session is kept.
 */
export type RefreshSession = () => Promise<string | null | undefined>;

/** RetryOptions bound the retries of side-effect-free calls. */
export interface RetryOptions {
  /** Attempts in all, the first included. Default 3. */
  maxAttempts?: number;
  /** Upper bound of the first backoff, in milliseconds. Default 250. */
  initialBackoffMs?: number;
  /** Upper bound of any backoff, in milliseconds. Default 4000. */
  maxBackoffMs?: number;
}

/** NaraTransportOptions configure createNaraTransport. */
export interface NaraTransportOptions {
  /** The server's base URL, for example "https://api.example.se". */
  baseUrl: string;
  /** Supplies the session token sent as "Authorization: Bearer". Default: none. */
  tokenProvider?: TokenProvider;
  /**
   * Called once when a unary call fails with Unauthenticated; the call is
   * then repeated with the new token. Default: no refresh.
   */
  refresh?: RefreshSession;
  /** The fetch implementation. Default: globalThis.fetch. */
  fetch?: typeof globalThis.fetch;
  /**
   * Retries of calls declared NO_SIDE_EFFECTS in the API when the network
   * fails or the server answers Unavailable; false turns them off.
   * Default: { maxAttempts: 3, initialBackoffMs: 250, maxBackoffMs: 4000 }.
   */
  retry?: RetryOptions | false;
  /** Interceptors run inside the SDK's own (closest to the network). Default: none. */
  interceptors?: Interceptor[];
  /** Use the binary protobuf format instead of JSON. Default: false (JSON, easy to read in devtools). */
  useBinaryFormat?: boolean;
  /** Deadline of every call unless the call sets its own, in milliseconds. Default: none. */
  defaultTimeoutMs?: number;
}

/**
 * createNaraTransport returns a Connect transport for every Nära service:
 * pass it to createClient with a service descriptor.
 */
export function createNaraTransport(options: NaraTransportOptions): Transport {
  const interceptors: Interceptor[] = [];
  if (options.tokenProvider !== undefined || options.refresh !== undefined) {
    interceptors.push(sessionInterceptor(options.tokenProvider, options.refresh));
  }
  if (options.retry !== false) {
    interceptors.push(retryInterceptor(options.retry ?? {}));
  }
  interceptors.push(...(options.interceptors ?? []));
  return createConnectTransport({
    baseUrl: options.baseUrl,
    fetch: options.fetch,
    useBinaryFormat: options.useBinaryFormat,
    defaultTimeoutMs: options.defaultTimeoutMs,
    interceptors,
  });
}

/**
 * sessionInterceptor sends the session token and, for unary calls, renews an
 * expired session once. Concurrent calls that fail together share one
 * refresh. Streaming calls get the token but are not repeated: their request
 * cannot be replayed, so the caller starts them again.
 */
export function sessionInterceptor(
  tokenProvider: TokenProvider | undefined,
  refresh: RefreshSession | undefined,
): Interceptor {
  let refreshing: Promise<string | null | undefined> | undefined;
  const refreshOnce = (): Promise<string | null | undefined> => {
    if (refresh === undefined) {
      return Promise.resolve(undefined);
    }
    refreshing ??= refresh().finally(() => {
      refreshing = undefined;
    });
    return refreshing;
  };
  return (next) => async (req) => {
    const sent = (await tokenProvider?.()) ?? undefined;
    if (sent) {
      req.header.set("Authorization", `Bearer ${sent}`);
    }
    try {
      return await next(req);
    } catch (e) {
      if (req.stream || ConnectError.from(e).code !== Code.Unauthenticated) {
        throw e;
      }
      // Another call may have renewed the session while this one was in
      // flight; then its token is enough and no second refresh is needed.
      const current = (await tokenProvider?.()) ?? undefined;
      const fresh = current && current !== sent ? current : await refreshOnce();
      if (!fresh) {
        throw e;
      }
      req.header.set("Authorization", `Bearer ${fresh}`);
      return await next(req);
    }
  };
}

/**
 * retryInterceptor repeats unary calls declared NO_SIDE_EFFECTS when the
 * network fails or the server is Unavailable, with exponential backoff and
 * full jitter. Nothing else is retried: a repeated write could apply twice.
 */
export function retryInterceptor(options: RetryOptions): Interceptor {
  const maxAttempts = Math.max(1, options.maxAttempts ?? 3);
  const initial = options.initialBackoffMs ?? 250;
  const max = options.maxBackoffMs ?? 4000;
  return (next) => async (req) => {
    if (
      req.stream ||
      req.method.idempotency !== MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS
    ) {
      return await next(req);
    }
    for (let attempt = 1; ; attempt++) {
      try {
        return await next(req);
      } catch (e) {
        if (attempt >= maxAttempts || req.signal.aborted || !isTransient(e)) {
          throw e;
        }
        const ceiling = Math.min(max, initial * 2 ** (attempt - 1));
        await sleep(Math.random() * ceiling, req.signal);
      }
    }
  };
}

/**
 * isTransient reports whether an error means the request may not have reached
 * the server or the server could not take it now: fetch rejects with a
 * TypeError when the network fails, and Unavailable is the server's (or a
 * proxy's 502/503/504) way to say "try again".
 */
function isTransient(e: unknown): boolean {
  if (e instanceof ConnectError) {
    return e.code === Code.Unavailable;
  }
  return e instanceof TypeError;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(ConnectError.from(signal.reason, Code.Canceled));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
