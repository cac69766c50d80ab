/**
 * Failures of a chat request as the errors a `vscode.lm` caller gets: VS Code's
 * `LanguageModelError` where one of its kinds fits (no access, blocked by policy, no such model),
 * an ordinary `Error` otherwise. Messages carry the status and the upstream's own message, redacted.
 */
import type * as vscode from 'vscode';
import { redactSecrets } from '../core/logger';

/** The `LanguageModelError` kinds VS Code defines (each a static factory). */
export type LanguageModelErrorKind = 'NoPermissions' | 'Blocked' | 'NotFound';

/**
 * The part of the `vscode` module this file needs. `LanguageModelError` exists since VS Code 1.90,
 * below the engine's ^1.104; it is optional only so a host (or a test fake) without it gets
 * ordinary errors instead of a TypeError.
 */
export type LmErrorApi = { LanguageModelError?: Pick<typeof vscode.LanguageModelError, LanguageModelErrorKind> };

/** What an upstream error body says: the human message, and the codes and types naming the failure. */
interface UpstreamErrorBody {
  message: string;
  codes: string[];
}

// Azure answers a filtered prompt with code "content_filter" (inner code "ResponsibleAIPolicyViolation"),
// OpenAI a flagged one with "invalid_prompt" or "content_policy_violation"; Anthropic says so in words.
const POLICY_CODES = new Set(['content_filter', 'content_policy_violation', 'responsibleaipolicyviolation', 'invalid_prompt']);
const POLICY_MESSAGE = /content[ _-]?filter|content (?:management|filtering) polic|violat\w* (?:our |the )?usage polic/i;

/**
 * The error for an upstream (or proxy) HTTP error answer to a chat request.
 *
 * @example upstreamError(vscode, 'openai', 401, '{"error":{"message":"Incorrect API key"}}') // NoPermissions
 */
export function upstreamError(api: LmErrorApi, provider: string, status: number, bodyText: string): Error {
  const body = parseErrorBody(bodyText);
  return languageModelError(api, upstreamErrorKind(status, body), `Isartor: ${provider} answered ${status}: ${body.message}`);
}

/** Which `LanguageModelError` kind an error answer is, if any fits. A policy block wins over its status. */
function upstreamErrorKind(status: number, body: UpstreamErrorBody): LanguageModelErrorKind | undefined {
  if (body.codes.some((code) => POLICY_CODES.has(code.toLowerCase())) || POLICY_MESSAGE.test(body.message)) return 'Blocked';
  if (status === 401 || status === 403) return 'NoPermissions';
  if (status === 404 || body.codes.includes('model_not_found')) return 'NotFound';
  return undefined;
}

/**
 * A `LanguageModelError` of `kind` (an ordinary `Error` without a kind, or without the class), with
 * secrets redacted from `message` first: redacting later would have to copy it into a plain Error.
 */
export function languageModelError(api: LmErrorApi, kind: LanguageModelErrorKind | undefined, message: string): Error {
  const redacted = redactSecrets(message);
  const errors = api.LanguageModelError;
  return kind && typeof errors?.[kind] === 'function' ? errors[kind](redacted) : new Error(redacted);
}

/** The message and codes of an OpenAI, Azure or Anthropic error body (or the raw text, shortened). */
function parseErrorBody(text: string): UpstreamErrorBody {
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    const error = body.error;
    if (typeof error === 'string') return { message: error, codes: [] };
    const detail = isObject(error) ? error : body;
    const inner = isObject(detail.innererror) ? detail.innererror : {};
    const codes = [detail.code, detail.type, inner.code].filter((code): code is string => typeof code === 'string');
    if (typeof detail.message === 'string' && detail.message) return { message: detail.message, codes };
    if (codes.length) return { message: text.slice(0, 300), codes };
  } catch {
    // not JSON
  }
  return { message: text.slice(0, 300) || 'no details', codes: [] };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
