package com.nara.sdk

import com.connectrpc.ProtocolClientConfig
import com.connectrpc.ProtocolClientInterface
import com.connectrpc.extensions.GoogleJavaLiteProtobufStrategy
import com.connectrpc.impl.ProtocolClient
import com.connectrpc.okhttp.ConnectOkHttpClient
import com.connectrpc.protocols.NetworkProtocol
import kotlinx.coroutines.Dispatchers
import okhttp3.OkHttpClient
import kotlin.coroutines.CoroutineContext
import kotlin.time.Duration
import kotlin.time.Duration.Companion.seconds

/**
 * NaraClient holds the one Connect protocol client an app needs for every
 * Nära service. Service clients are generated, so a service added to the API
 * is usable after regeneration without a change here:
 *
 * ```
 * val nara = NaraClient.builder("https://api.example.se").tokenProvider { session.token }.build()
 * val help = nara.create(::HelpServiceClient)
 * val hits = help.searchArticles(searchArticlesRequest { query = "vaccination"; language = Language.LANGUAGE_SV })
 * ```
 */
class NaraClient private constructor(
    /** The protocol client that every generated `*ServiceClient` takes. */
    val protocolClient: ProtocolClientInterface,
) {
    /** Creates a generated service client, for example `create(::HelpServiceClient)`. */
    fun <T> create(factory: (ProtocolClientInterface) -> T): T = factory(protocolClient)

    /** Builder configures a NaraClient; only the base URL is required. */
    class Builder internal constructor(private val baseUrl: String) {
        private var okHttpClient: OkHttpClient? = null
        private var tokenProvider: TokenProvider? = null
        private var refresher: SessionRefresher? = null
        private var timeout: Duration? = 10.seconds
        private var ioContext: CoroutineContext? = Dispatchers.IO

        /**
         * The OkHttp client to share connections, certificate pinning and
         * interceptors with. Its interceptors run after the session's, so a
         * logging interceptor sees the Authorization header. Default: a new
         * OkHttpClient.
         */
        fun okHttpClient(client: OkHttpClient) = apply { okHttpClient = client }

        /** Supplies the session token sent as "Authorization: Bearer". Default: none. */
        fun tokenProvider(provider: TokenProvider) = apply { tokenProvider = provider }

        /**
         * Renews the session once when a unary call fails with
         * Unauthenticated; the call is then repeated with the new token.
         * Default: no renewal.
         */
        fun refresh(refresher: SessionRefresher) = apply { this.refresher = refresher }

        /** The deadline of every call; null means none. Default: 10 seconds. */
        fun timeout(timeout: Duration?) = apply { this.timeout = timeout }

        /**
         * Where suspending calls do their I/O; null means the caller's
         * context. Default: Dispatchers.IO, so calls are safe from the main thread.
         */
        fun ioContext(context: CoroutineContext?) = apply { ioContext = context }

        /** Builds the client. */
        fun build(): NaraClient {
            val builder = ConnectOkHttpClient.configureClient((okHttpClient ?: OkHttpClient()).newBuilder())
            if (tokenProvider != null || refresher != null) {
                builder.interceptors().add(0, SessionInterceptor(tokenProvider, refresher))
            }
            val deadline = timeout
            val config = ProtocolClientConfig(
                host = baseUrl.trimEnd('/'),
                serializationStrategy = GoogleJavaLiteProtobufStrategy(),
                networkProtocol = NetworkProtocol.CONNECT,
                ioCoroutineContext = ioContext,
                timeoutOracle = { deadline },
            )
            return NaraClient(ProtocolClient(ConnectOkHttpClient(builder.build()), config))
        }
    }

    companion object {
        /** Starts a NaraClient for the server at baseUrl, for example "https://api.example.se". */
        @JvmStatic
        fun builder(baseUrl: String): Builder = Builder(baseUrl)
    }
}
