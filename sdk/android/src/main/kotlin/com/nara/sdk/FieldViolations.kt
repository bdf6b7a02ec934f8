package com.nara.sdk

import com.buf.validate.FieldPath
import com.buf.validate.FieldPathElement
import com.buf.validate.Violations
import com.connectrpc.ConnectException

/**
 * FieldViolation is one broken validation rule of a request, as the server's
 * protovalidate interceptor reported it with Code.INVALID_ARGUMENT, so that a
 * form can show it next to the input.
 */
data class FieldViolation(
    /** The field's path in the request, for example "query" or "content.sources[0].url"; empty for a rule on the whole message. */
    val field: String,
    /** A sentence for developers, in English; show the app's own text to users. */
    val message: String,
    /** The rule's identifier, for example "string.min_len": what to pick the app's own text by. */
    val ruleId: String,
)

/**
 * fieldViolations returns the validation failures carried in the error's
 * buf.validate.Violations details, or an empty list when there are none.
 * It reads the details' bytes itself, so it works with any serialization
 * strategy and does not need the client's error detail parser.
 */
fun ConnectException.fieldViolations(): List<FieldViolation> =
    details.filter { it.type == VIOLATIONS_TYPE }.flatMap { detail ->
        Violations.parseFrom(detail.payload.toByteArray()).violationsList.map {
            FieldViolation(field = formatFieldPath(it.field), message = it.message, ruleId = it.ruleId)
        }
    }

/** The detail's type name, without the type URL prefix (as the Connect protocol sends it). */
private const val VIOLATIONS_TYPE = "buf.validate.Violations"

/** formatFieldPath writes a FieldPath the way protovalidate prints it: `items[0].name`, `labels["a"]`. */
fun formatFieldPath(path: FieldPath): String = path.elementsList.joinToString(".") { e ->
    e.fieldName + when (e.subscriptCase) {
        FieldPathElement.SubscriptCase.INDEX -> "[${e.index.toULong()}]"
        FieldPathElement.SubscriptCase.BOOL_KEY -> "[${e.boolKey}]"
        FieldPathElement.SubscriptCase.INT_KEY -> "[${e.intKey}]"
        FieldPathElement.SubscriptCase.UINT_KEY -> "[${e.uintKey.toULong()}]"
        FieldPathElement.SubscriptCase.STRING_KEY -> "[${quote(e.stringKey)}]"
        else -> ""
    }
}

/** quote writes s as a JSON string, as the web SDK's formatFieldPath does. */
private fun quote(s: String): String = buildString {
    append('"')
    for (c in s) {
        when {
            c == '"' -> append("\\\"")
            c == '\\' -> append("\\\\")
            c == '\n' -> append("\\n")
            c == '\r' -> append("\\r")
            c == '\t' -> append("\\t")
            c == '\b' -> append("\\b")
            c == '\u000c' -> append("\\f")
            c < ' ' -> append("\\u%04x".format(c.code))
            else -> append(c)
        }
    }
    append('"')
}
