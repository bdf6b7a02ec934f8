package com.nara.sdk

import com.connectrpc.Code
import com.connectrpc.ConnectException
import com.connectrpc.ResponseMessage
import com.connectrpc.getOrThrow
import com.nara.app.v1.AppServiceClient
import com.nara.app.v1.Platform
import com.nara.app.v1.getConfigRequest
import com.nara.help.v1.HelpAdminServiceClient
import com.nara.help.v1.HelpServiceClient
import com.nara.help.v1.Language
import com.nara.help.v1.getArticleRequest
import com.nara.help.v1.listAllArticlesRequest
import com.nara.help.v1.listCategoriesRequest
import com.nara.help.v1.searchArticlesRequest
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.runBlocking
import okhttp3.Interceptor
import okhttp3.MediaType.Companion.toMediaType
import okhttp3.OkHttpClient
import okhttp3.Protocol
import okhttp3.Response
import okhttp3.ResponseBody.Companion.toResponseBody
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Assertions.fail
import org.junit.jupiter.api.Test
import java.util.Collections
import java.util.concurrent.atomic.AtomicInteger
import java.util.concurrent.atomic.AtomicReference

/** Tests against the live server at NARA_URL (sdk/scripts/with-server.sh starts one). */
class NaraClientTest {
    private val baseUrl: String = System.getenv("NARA_URL").takeUnless { it.isNullOrEmpty() }
        ?: error("NARA_URL is not set: run the tests through sdk/scripts/with-server.sh (make sdk-test-android)")

    private val help = NaraClient.builder(baseUrl).build().create(::HelpServiceClient)

    @Test
    fun `SearchArticles finds boka-vaccination for an inflected word`() = runBlocking {
        val hits = help.searchArticles(
            searchArticlesRequest {
                query = "vaccinationer"
                language = Language.LANGUAGE_SV
            },
        ).getOrThrow().hitsList
        assertTrue(hits.any { it.slug == "boka-vaccination" }, "SearchArticles(\"vaccinationer\") got ${hits.map { it.slug }}, want boka-vaccination")
    }

    @Test
    fun `GetArticle returns the article`() = runBlocking {
        val article = help.getArticle(
            getArticleRequest {
                slug = "boka-vaccination"
                language = Language.LANGUAGE_SV
            },
        ).getOrThrow().article
        assertEquals("boka-vaccination", article.slug)
        assertTrue(article.bodyMarkdown.isNotEmpty())
    }

    @Test
    fun `GetArticle of an unknown slug fails with NotFound`() {
        val result = help.getArticleBlocking(
            getArticleRequest {
                slug = "finns-inte"
                language = Language.LANGUAGE_SV
            },
        ).execute()
        assertEquals(Code.NOT_FOUND, codeOf { result.getOrThrow() })
    }

    @Test
    fun `an empty query fails with InvalidArgument`() = runBlocking {
        val result = help.searchArticles(searchArticlesRequest { language = Language.LANGUAGE_SV })
        assertEquals(Code.INVALID_ARGUMENT, codeOf { result.getOrThrow() })
    }

    @Test
    fun `fieldViolations names the field an app shows the error next to`() = runBlocking {
        val result = help.searchArticles(searchArticlesRequest { language = Language.LANGUAGE_SV })
        val e = (result as? ResponseMessage.Failure)?.cause ?: fail("SearchArticles with an empty query succeeded")
        assertEquals(Code.INVALID_ARGUMENT, e.code)
        val got = e.fieldViolations()
        assertEquals(listOf("query" to "string.min_len"), got.map { it.field to it.ruleId })
        assertTrue(got.single().message.isNotEmpty(), "the violation has no message")
        assertEquals(emptyList<FieldViolation>(), ConnectException(Code.NOT_FOUND).fieldViolations())
    }

    @Test
    fun `ListCategories and GetConfig answer`() = runBlocking {
        val nara = NaraClient.builder(baseUrl).build()
        val categories = nara.create(::HelpServiceClient)
            .listCategories(listCategoriesRequest { language = Language.LANGUAGE_EN })
            .getOrThrow().categoriesList
        assertTrue(categories.isNotEmpty())
        val config = nara.create(::AppServiceClient).getConfig(
            getConfigRequest {
                platform = Platform.PLATFORM_ANDROID
                appVersion = "1.0.0"
            },
        ).getOrThrow()
        assertTrue(config.serverVersion.isNotEmpty())
    }

    @Test
    fun `the server's Unauthenticated triggers exactly one refresh`() = runBlocking {
        val tokens = Collections.synchronizedList(mutableListOf<String?>())
        val refreshes = AtomicInteger()
        val token = AtomicReference("expired")
        val admin = NaraClient.builder(baseUrl)
            .okHttpClient(OkHttpClient.Builder().addInterceptor(recordTokens(tokens)).build())
            .tokenProvider { token.get() }
            .refresh {
                refreshes.incrementAndGet()
                token.set("renewed")
                token.get()
            }
            .build()
            .create(::HelpAdminServiceClient)
        // The demo server knows no such session, so the renewed token is
        // refused too, and the error reaches the caller after one refresh.
        val result = admin.listAllArticles(listAllArticlesRequest { language = Language.LANGUAGE_SV })
        assertEquals(Code.UNAUTHENTICATED, codeOf { result.getOrThrow() })
        assertEquals(listOf("Bearer expired", "Bearer renewed"), tokens.toList())
        assertEquals(1, refreshes.get())
    }

    @Test
    fun `calls that fail together share one refresh and then succeed`() = runBlocking {
        val refreshes = AtomicInteger()
        val token = AtomicReference("stale")
        // Stands in for a server that takes only the "fresh" session, and
        // passes accepted calls on to the real server without it.
        val sessionGate = Interceptor { chain ->
            if (chain.request().header("Authorization") == "Bearer fresh") {
                chain.proceed(chain.request().newBuilder().removeHeader("Authorization").build())
            } else {
                unauthenticated(chain)
            }
        }
        val nara = NaraClient.builder(baseUrl)
            .okHttpClient(OkHttpClient.Builder().addInterceptor(sessionGate).build())
            .tokenProvider { token.get() }
            .refresh {
                refreshes.incrementAndGet()
                Thread.sleep(50)
                token.set("fresh")
                token.get()
            }
            .build()
        val client = nara.create(::HelpServiceClient)
        val results = (1..4).map {
            async { client.listCategories(listCategoriesRequest { language = Language.LANGUAGE_SV }) }
        }.awaitAll()
        results.forEach { assertTrue(it.getOrThrow().categoriesCount > 0) }
        assertEquals(1, refreshes.get())
    }

    @Test
    fun `a refresher that gives up surfaces Unauthenticated`() = runBlocking {
        val refreshes = AtomicInteger()
        val nara = NaraClient.builder(baseUrl)
            .okHttpClient(OkHttpClient.Builder().addInterceptor(Interceptor { unauthenticated(it) }).build())
            .tokenProvider { "stale" }
            .refresh {
                refreshes.incrementAndGet()
                null
            }
            .build()
        val result = nara.create(::HelpServiceClient).listCategories(listCategoriesRequest { language = Language.LANGUAGE_SV })
        assertEquals(Code.UNAUTHENTICATED, codeOf { result.getOrThrow() })
        assertEquals(1, refreshes.get())
    }

    private fun recordTokens(tokens: MutableList<String?>) = Interceptor { chain ->
        tokens.add(chain.request().header("Authorization"))
        chain.proceed(chain.request())
    }

    private fun unauthenticated(chain: Interceptor.Chain): Response = Response.Builder()
        .request(chain.request())
        .protocol(Protocol.HTTP_1_1)
        .code(401)
        .message("Unauthorized")
        .body("""{"code":"unauthenticated","message":"session expired"}""".toResponseBody("application/json".toMediaType()))
        .build()

    private fun codeOf(call: () -> Unit): Code {
        try {
            call()
        } catch (e: ConnectException) {
            return e.code
        }
        fail<Unit>("the call succeeded")
        error("unreachable")
    }
}
