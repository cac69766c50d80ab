/**
 * Loads recorded agent trajectories (`*.traj.json.gz`, mini-swe-agent format: an OpenAI chat list
 * with tool calls) and turns each into the requests the agent sent and the answers it got back.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import type { JsonObject, JsonValue } from '../core/request';

const gunzipAsync = promisify(gunzip);

/** One LLM call of a trajectory. */
export interface RecordedCall {
  /** The OpenAI chat request body as the agent sent it (`model`, `messages`, `tools`, `temperature`). */
  request: JsonObject;
  /** The assistant message the provider answered with, OpenAI shape, non-OpenAI keys removed. */
  answer: JsonObject;
  /** The provider's finish reason ("stop", "tool_calls", ...). */
  finishReason: string;
  /** The provider's own counts, when the trajectory recorded them. */
  usage: { promptTokens: number; completionTokens: number; cachedTokens: number };
  /** Epoch seconds when the provider answered, when recorded (for prompt-cache lifetimes). */
  time?: number;
}

export interface Trajectory {
  /** Path relative to the folder it was found in, e.g. "run/astropy-123/astropy-123.traj.json.gz". */
  id: string;
  model: string;
  calls: RecordedCall[];
}

/** Keys the trajectory format adds to OpenAI messages; they never went over the wire. */
const NON_WIRE_KEYS = new Set(['extra', 'provider_specific_fields']);

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every `*.traj.json.gz` under `dir`, in path order (the order `bench traces` replays them). */
export async function listTrajectoryFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (folder: string): Promise<void> => {
    const names = (await readdir(folder)).sort();
    for (const name of names) {
      const path = join(folder, name);
      if ((await stat(path)).isDirectory()) await walk(path);
      else if (name.endsWith('.traj.json.gz')) found.push(path);
    }
  };
  await walk(dir);
  return found.sort();
}

function wireMessage(message: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(message)) if (!NON_WIRE_KEYS.has(key)) out[key] = value;
  return out;
}

/**
 * The tool definitions the agent must have sent. The format records the calls but not the schema,
 * so each function is rebuilt from the argument names its calls used (all strings: mini-swe-agent's
 * one tool is `bash` with a `command` string). Marked in the description as reconstructed.
 */
export function reconstructTools(messages: readonly JsonObject[]): JsonObject[] {
  const argsByName = new Map<string, Set<string>>();
  for (const message of messages) {
    if (!Array.isArray(message.tool_calls)) continue;
    for (const call of message.tool_calls) {
      const fn = isObject(call) && isObject(call.function) ? call.function : undefined;
      if (!fn || typeof fn.name !== 'string') continue;
      const args = argsByName.get(fn.name) ?? new Set<string>();
      try {
        const parsed = JSON.parse(String(fn.arguments ?? '{}')) as unknown;
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) for (const key of Object.keys(parsed)) args.add(key);
      } catch {
        // A malformed call (the agent's own error) says nothing about the schema.
      }
      argsByName.set(fn.name, args);
    }
  }
  return [...argsByName].map(([name, args]) => ({
    type: 'function',
    function: {
      name,
      description: `${name} (schema reconstructed from the recorded calls)`,
      parameters: {
        type: 'object',
        properties: Object.fromEntries([...args].sort().map((arg) => [arg, { type: 'string' }])),
        required: [...args].sort(),
      },
    },
  }));
}

/**
 * Parses one trajectory file. The request for assistant turn i is `messages[:i]` (wire keys only);
 * the assistant message at i is the answer.
 */
export function parseTrajectory(json: unknown, id: string): Trajectory {
  const root = json as { messages?: unknown; info?: { config?: { model?: { model_name?: unknown; model_kwargs?: { temperature?: unknown } } } } };
  if (!Array.isArray(root.messages)) throw new Error(`${id}: no "messages" list`);
  const raw = (root.messages as JsonValue[]).filter(isObject);
  const messages = raw.filter((message) => message.role !== 'exit').map(wireMessage);
  const modelName = root.info?.config?.model?.model_name;
  const model = typeof modelName === 'string' ? modelName : 'unknown-model';
  const temperature = root.info?.config?.model?.model_kwargs?.temperature;
  const tools = reconstructTools(messages);
  const calls: RecordedCall[] = [];
  messages.forEach((message, index) => {
    if (message.role !== 'assistant') return;
    const extra = isObject(raw[index]!.extra) ? raw[index]!.extra : {};
    const response = isObject(extra.response) ? extra.response : {};
    const usage = isObject(response.usage) ? response.usage : {};
    const details = isObject(usage.prompt_tokens_details) ? usage.prompt_tokens_details : {};
    const choice = Array.isArray(response.choices) && isObject(response.choices[0]) ? response.choices[0] : {};
    const request: JsonObject = { model, messages: messages.slice(0, index) };
    if (tools.length > 0) request.tools = tools;
    if (typeof temperature === 'number') request.temperature = temperature;
    calls.push({
      request,
      answer: message,
      finishReason: typeof choice.finish_reason === 'string' ? choice.finish_reason : Array.isArray(message.tool_calls) ? 'tool_calls' : 'stop',
      usage: {
        promptTokens: Number(usage.prompt_tokens ?? 0),
        completionTokens: Number(usage.completion_tokens ?? 0),
        cachedTokens: Number(details.cached_tokens ?? 0),
      },
      time: typeof response.created === 'number' ? response.created : undefined,
    });
  });
  return { id, model, calls };
}

/** A trajectory file that cannot be read, unzipped or understood. */
export class UnreadableTrajectoryError extends Error {}

/** Reads and parses one `*.traj.json.gz`; `root` makes the id relative. */
export async function loadTrajectory(path: string, root: string): Promise<Trajectory> {
  try {
    const json = JSON.parse((await gunzipAsync(await readFile(path))).toString('utf8')) as unknown;
    return parseTrajectory(json, relative(root, path));
  } catch (error) {
    throw new UnreadableTrajectoryError(`${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
