import { ConnectError } from "@connectrpc/connect";
import {
  ViolationsSchema,
  type FieldPath,
} from "./gen/buf/validate/validate_pb.js";

/**
 * FieldViolation is one broken validation rule of a request, as the server's
 * protovalidate interceptor reported it with Code.InvalidArgument.
 */
export interface FieldViolation {
  /** The field's path in the request, for example "query" or "content.sources[0].url". */
  field: string;
  /** The rule's identifier, for example "string.min_len". */
  ruleId: string;
  /** A sentence for developers; show the app's own text to users. */
  message: string;
}

/**
 * fieldViolations returns the validation failures carried in an error's
 * details (buf.validate.Violations), or an empty list when there are none,
 * so that a form can mark the offending fields.
 */
export function fieldViolations(error: unknown): FieldViolation[] {
  return ConnectError.from(error)
    .findDetails(ViolationsSchema)
    .flatMap((v) => v.violations)
    .map((v) => ({
      field: formatFieldPath(v.field),
      ruleId: v.ruleId,
      message: v.message,
    }));
}

/** formatFieldPath writes a FieldPath the way protovalidate prints it. */
export function formatFieldPath(path: FieldPath | undefined): string {
  let out = "";
  for (const e of path?.elements ?? []) {
    out += (out === "" ? "" : ".") + e.fieldName;
    switch (e.subscript.case) {
      case "index":
      case "intKey":
      case "uintKey":
      case "boolKey":
        out += `[${String(e.subscript.value)}]`;
        break;
      case "stringKey":
        out += `[${JSON.stringify(e.subscript.value)}]`;
        break;
    }
  }
  return out;
}
