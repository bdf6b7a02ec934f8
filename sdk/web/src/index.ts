/**
 * The Nära API for browsers and Node: the generated messages and service
 * descriptors of every API package (as namespaces such as helpv1), and a
 * Connect transport that carries the session token, renews it once when it
 * expires and retries safe reads when the network fails.
 *
 *     const transport = createNaraTransport({ baseUrl: "https://api.example.se" });
 *     const help = createClient(helpv1.HelpService, transport);
 *     const { hits } = await help.searchArticles({ query: "vaccination", language: helpv1.Language.SV });
 *
 * @module
 */
export {
  createNaraTransport,
  sessionInterceptor,
  retryInterceptor,
  type NaraTransportOptions,
  type RetryOptions,
  type RefreshSession,
  type TokenProvider,
} from "./transport.js";
export { fieldViolations, formatFieldPath, type FieldViolation } from "./errors.js";
export * from "./services/index.js";
export {
  Code,
  ConnectError,
  createClient,
  type CallOptions,
  type Client,
  type Interceptor,
  type Transport,
} from "@connectrpc/connect";
