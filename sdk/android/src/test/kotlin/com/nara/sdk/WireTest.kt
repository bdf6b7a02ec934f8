package com.nara.sdk

import com.connectrpc.ConnectException
import com.connectrpc.ResponseMessage
import com.google.protobuf.Timestamp
import com.nara.appointment.v1.AppointmentServiceClient
import com.nara.appointment.v1.ListAppointmentsRequest
import com.nara.appointment.v1.Service
import com.nara.appointment.v1.listAppointmentsRequest
import com.nara.appointment.v1.searchSlotsRequest
import com.nara.auth.v1.CitizenAuthServiceClient
import com.nara.auth.v1.Provider
import com.nara.auth.v1.StartMode
import com.nara.auth.v1.device
import com.nara.auth.v1.startLoginRequest
import com.nara.help.v1.CreateArticleRequest
import com.nara.help.v1.GetArticleRequest
import com.nara.help.v1.HelpAdminServiceClient
import com.nara.help.v1.HelpServiceClient
import com.nara.help.v1.ListAllArticlesRequest
import com.nara.help.v1.SearchArticlesRequest
import com.nara.help.v1.articleContent
import com.nara.help.v1.createArticleRequest
import com.nara.help.v1.searchArticlesRequest
import com.nara.help.v1.sourceLink
import com.nara.push.v1.MarkNotificationsReadRequest
import com.nara.push.v1.NotificationServiceClient
import com.nara.push.v1.UpdatePreferencesRequest
import com.nara.push.v1.markNotificationsReadRequest
import com.nara.push.v1.preferences
import com.nara.push.v1.quietHours
import com.nara.push.v1.updatePreferencesRequest
import com.squareup.moshi.Moshi
import kotlinx.coroutines.runBlocking
import okhttp3.Interceptor
import okhttp3.MediaType.Companion.toMediaType
import okhttp3.OkHttpClient
import okhttp3.Protocol
import okhttp3.Response
import okhttp3.ResponseBody.Companion.toResponseBody
import okio.Buffer
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.DynamicTest
import org.junit.jupiter.api.TestFactory
import java.io.File
import java.time.Instant
import java.util.Base64

/**
 * Wire compatibility with the server, both ways, through the golden files in
 * sdk/wire (see its README):
 *
 * - requests: the calls below record exactly what this SDK sends; the
 *   recording must equal sdk/wire/requests/android/<case>.json, which the Go
 *   test server/wire_test.go decodes with the server's rules and replays.
 *   NARA_WIRE_UPDATE=1 rewrites the files instead.
 * - errors: the server's recorded answers (sdk/wire/errors, written by
 *   server/wire_test.go) are played back to this SDK, which must report the
 *   same Connect code and, through fieldViolations(), the same field paths
 *   and rule ids.
 */
class WireTest {
    private val baseUrl: String = System.getenv("NARA_URL").takeUnless { it.isNullOrEmpty() }
        ?: error("NARA_URL is not set: run the tests through sdk/scripts/with-server.sh (make sdk-test-android)")
    private val wire = File(System.getProperty("user.dir"), "../wire").canonicalFile
    private val update = System.getenv("NARA_WIRE_UPDATE") == "1"

    private fun at(s: String): Timestamp = Instant.parse(s).let {
        Timestamp.newBuilder().setSeconds(it.epochSecond).setNanos(it.nano).build()
    }

    /** One call: its case name, whether it carries a session, and how to make it. */
    private class Call(val name: String, val authenticated: Boolean, val make: suspend (NaraClient) -> ResponseMessage<*>)

    // The same calls, with the same values, as server/wire_test.go expects
    // and sdk/web/test/wire.test.js makes.
    private val calls = listOf(
        Call("help-search-articles", false) {
            it.create(::HelpServiceClient).searchArticles(
                searchArticlesRequest {
                    query = "vaccinationer"
                    language = com.nara.help.v1.Language.LANGUAGE_SV
                },
            )
        },
        Call("auth-start-login", false) {
            it.create(::CitizenAuthServiceClient).startLogin(
                startLoginRequest {
                    provider = Provider.PROVIDER_BANKID
                    mode = StartMode.START_MODE_OTHER_DEVICE
                    device = device {
                        id = "wire-test-device-1"
                        name = "Wire test"
                        platform = com.nara.auth.v1.Platform.PLATFORM_ANDROID
                    }
                    language = com.nara.auth.v1.Language.LANGUAGE_EN
                },
            )
        },
        Call("appointment-search-slots", true) {
            it.create(::AppointmentServiceClient).searchSlots(
                searchSlotsRequest {
                    service = Service.SERVICE_VACCINATION
                    unitHsaId = "SE2321000016-1A03"
                    startTime = at("2026-01-07T08:00:00Z")
                    endTime = at("2026-01-08T16:30:00.250Z")
                    pageSize = 20
                },
            )
        },
        Call("appointment-list", true) {
            it.create(::AppointmentServiceClient).listAppointments(
                listAppointmentsRequest { updatedSince = at("2026-01-01T00:00:00Z") },
            )
        },
        Call("push-update-preferences", true) {
            it.create(::NotificationServiceClient).updatePreferences(
                updatePreferencesRequest {
                    preferences = preferences {
                        reminders = true
                        messages = false
                        offers = true
                        quietHours = quietHours {
                            start = "22:00"
                            end = "07:00"
                        }
                        language = com.nara.push.v1.Language.LANGUAGE_EN
                        timeZone = "Europe/Stockholm"
                    }
                },
            )
        },
        Call("push-mark-read", true) {
            it.create(::NotificationServiceClient).markNotificationsRead(
                markNotificationsReadRequest { ids += listOf("1", "22", "333") },
            )
        },
        Call("help-admin-create-article", true) {
            it.create(::HelpAdminServiceClient).createArticle(
                createArticleRequest {
                    slug = "wire-test"
                    language = com.nara.help.v1.Language.LANGUAGE_EN
                    content = articleContent {
                        categorySlug = "bokning"
                        title = "Åtkomst för vårdnadshavare"
                        summary = "A \"quoted\" summary."
                        bodyMarkdown = "Line one\nLine två — ✓"
                        sources += sourceLink {
                            title = "1177"
                            url = "https://www.1177.se/"
                        }
                        sources += sourceLink {
                            title = "Inera"
                            url = "https://www.inera.se/"
                        }
                        lastReviewedOn = "2030-01-02"
                    }
                },
            )
        },
    )

    /** The headers that carry meaning on the wire; the rest (User-Agent, …) vary. */
    private val recordedHeaders = setOf("authorization", "connect-protocol-version", "connect-timeout-ms", "content-encoding", "content-type")

    @TestFactory
    fun requests(): List<DynamicTest> = calls.map { call ->
        DynamicTest.dynamicTest("request ${call.name} is what sdk/wire/requests/android holds") {
            val sent = mutableListOf<String>()
            val recorder = Interceptor { chain ->
                sent.add(describe(call.name, chain.request()))
                chain.proceed(chain.request())
            }
            val builder = NaraClient.builder(baseUrl).okHttpClient(OkHttpClient.Builder().addInterceptor(recorder).build())
            if (call.authenticated) builder.tokenProvider { "wire-test-token" }
            // The answer does not matter here (the token is not a real session).
            runBlocking { call.make(builder.build()) }
            assertEquals(1, sent.size, "${call.name} sent ${sent.size} requests")
            val file = File(wire, "requests/android/${call.name}.json")
            if (update) {
                file.parentFile.mkdirs()
                file.writeText(sent[0])
            } else {
                val golden = if (file.exists()) file.readText() else "(missing)"
                assertEquals(
                    golden, sent[0],
                    "the Android SDK now sends something else than $file; if that is intended, run " +
                        "NARA_WIRE_UPDATE=1 make sdk-test-android and then go test ./server -run TestWire",
                )
            }
        }
    }

    /** describe writes a request down as the golden file holds it. */
    private fun describe(case: String, request: okhttp3.Request): String {
        val headers = sortedMapOf<String, String>()
        request.headers.forEach { (name, value) -> if (name.lowercase() in recordedHeaders) headers[name.lowercase()] = value }
        // OkHttp adds Content-Type from the body later, below the interceptors.
        request.body?.contentType()?.let { headers.putIfAbsent("content-type", it.toString()) }
        val body = Buffer().also { request.body?.writeTo(it) }.readByteArray()
        val headerLines = headers.entries.joinToString(",\n") { (k, v) -> "    ${quote(k)}: ${quote(v)}" }
        return """
            |{
            |  "sdk": "android",
            |  "case": ${quote(case)},
            |  "method": ${quote(request.method)},
            |  "path": ${quote(request.url.encodedPath)},
            |  "headers": {
            |$headerLines
            |  },
            |  "bodyBase64": ${quote(Base64.getEncoder().encodeToString(body))}
            |}
            |
        """.trimMargin()
    }

    private fun quote(s: String): String = buildString {
        append('"')
        for (c in s) {
            when {
                c == '"' -> append("\\\"")
                c == '\\' -> append("\\\\")
                c < ' ' -> append("\\u%04x".format(c.code))
                else -> append(c)
            }
        }
        append('"')
    }

    // Every procedure sdk/wire/errors has an answer for, called with an
    // empty request: the canned answer does not depend on it.
    private val errorCalls: Map<String, suspend (NaraClient) -> ResponseMessage<*>> = mapOf(
        "/nara.help.v1.HelpService/SearchArticles" to { it.create(::HelpServiceClient).searchArticles(SearchArticlesRequest.getDefaultInstance()) },
        "/nara.help.v1.HelpService/GetArticle" to { it.create(::HelpServiceClient).getArticle(GetArticleRequest.getDefaultInstance()) },
        "/nara.help.v1.HelpAdminService/CreateArticle" to { it.create(::HelpAdminServiceClient).createArticle(CreateArticleRequest.getDefaultInstance()) },
        "/nara.help.v1.HelpAdminService/ListAllArticles" to { it.create(::HelpAdminServiceClient).listAllArticles(ListAllArticlesRequest.getDefaultInstance()) },
        "/nara.push.v1.NotificationService/MarkNotificationsRead" to {
            it.create(::NotificationServiceClient).markNotificationsRead(MarkNotificationsReadRequest.getDefaultInstance())
        },
        "/nara.push.v1.NotificationService/UpdatePreferences" to {
            it.create(::NotificationServiceClient).updatePreferences(UpdatePreferencesRequest.getDefaultInstance())
        },
        "/nara.appointment.v1.AppointmentService/ListAppointments" to {
            it.create(::AppointmentServiceClient).listAppointments(ListAppointmentsRequest.getDefaultInstance())
        },
    )

    @TestFactory
    fun errors(): List<DynamicTest> {
        val files = File(wire, "errors").listFiles { f -> f.name.endsWith(".json") }.orEmpty().sortedBy { it.name }
        assertTrue(files.size >= 5, "sdk/wire/errors holds ${files.size} answers")
        @Suppress("UNCHECKED_CAST")
        val json = Moshi.Builder().build().adapter(Any::class.java)
        return files.map { file ->
            DynamicTest.dynamicTest("error ${file.name}: the app sees the server's code and field violations") {
                val golden = json.fromJson(file.readText()) as Map<String, Any?>
                val want = golden["want"] as Map<String, Any?>
                val procedure = golden["procedure"] as String
                val call = errorCalls[procedure] ?: error("WireTest has no call for $procedure; add it to errorCalls")
                val answer = Interceptor { chain ->
                    assertEquals(procedure, chain.request().url.encodedPath)
                    Response.Builder()
                        .request(chain.request())
                        .protocol(Protocol.HTTP_1_1)
                        .code((golden["status"] as Double).toInt())
                        .message("from ${file.name}")
                        .header("Content-Type", golden["contentType"] as String)
                        .body((golden["body"] as String).toResponseBody((golden["contentType"] as String).toMediaType()))
                        .build()
                }
                val client = NaraClient.builder(baseUrl).okHttpClient(OkHttpClient.Builder().addInterceptor(answer).build()).build()
                val result = runBlocking { call(client) }
                val failure = result as? ResponseMessage.Failure ?: error("the call succeeded")
                val e: ConnectException = failure.cause
                assertEquals(want["code"], e.code.codeName)
                val wantViolations = (want["violations"] as List<Map<String, String>>?).orEmpty().map { it["field"] to it["ruleId"] }
                val got = e.fieldViolations().map { it.field to it.ruleId }
                assertEquals(wantViolations, got)
            }
        }
    }
}
