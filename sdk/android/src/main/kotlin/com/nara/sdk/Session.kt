package com.nara.sdk

import okhttp3.Interceptor
import okhttp3.Request
import okhttp3.Response

/**
 * TokenProvider returns the current session token, or null when the user is
 * not logged in. It runs before every request on an OkHttp thread, so it
 * should read from memory.
 */
fun interface TokenProvider {
    fun token(): String?
}

/**
 * SessionRefresher obtains a new session token after the server answered
 * Unauthenticated, stores it where the TokenProvider reads it, and returns
 * it; null means the session cannot be renewed (log in again), and the
 * Unauthenticated error reaches the caller. It runs on an OkHttp thread and may
 * block, typically on `SessionServiceClient.refreshSessionBlocking` of a
 * NaraClient without a session. At most one runs at a time. A refresh token
 * works once, so a refresher that fails should clear the session.
 */
fun interface SessionRefresher {
    fun refresh(): String?
}

/**
 * SessionInterceptor adds the bearer token and renews an expired session once.
 * Only Connect unary calls are repeated (their request bodies can be sent
 * again, and Unauthenticated arrives as HTTP 401); streams get the token only.
 */
internal class SessionInterceptor(
    private val tokenProvider: TokenProvider?,
    private val refresher: SessionRefresher?,
) : Interceptor {
    private val lock = Any()

    override fun intercept(chain: Interceptor.Chain): Response {
        val request = chain.request()
        val sent = tokenProvider?.token()
        val response = chain.proceed(request.withToken(sent))
        if (response.code != HTTP_UNAUTHORIZED || refresher == null || !request.isConnectUnary()) {
            return response
        }
        val fresh = renew(sent) ?: return response
        response.close()
        return chain.proceed(request.withToken(fresh))
    }

    private fun renew(sent: String?): String? = synchronized(lock) {
        // A call that failed together with this one may have renewed the
        // session already; then its token is enough.
        val current = tokenProvider?.token()
        if (!current.isNullOrEmpty() && current != sent) current else refresher?.refresh()
    }

    private fun Request.withToken(token: String?): Request =
        if (token.isNullOrEmpty()) this else newBuilder().header("Authorization", "Bearer $token").build()

    private fun Request.isConnectUnary(): Boolean {
        if (method == "GET") return true
        val type = body?.contentType() ?: return false
        return type.type == "application" && !type.subtype.startsWith("connect+")
    }

    private companion object {
        const val HTTP_UNAUTHORIZED = 401
    }
}
