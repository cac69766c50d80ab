// Test-only extension: finds language models by vendor through vscode.lm and records one answer to a file.
'use strict';
const vscode = require('vscode');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

/** Resolves with the vendor's models, waiting for them to be registered (the provider may still be activating). */
async function selectModels(vendor, waitMs) {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const models = await vscode.lm.selectChatModels({ vendor });
    const remaining = deadline - Date.now();
    if (models.length > 0 || remaining <= 0) return models;
    // Wait for the next change to the model list instead of polling on a timer.
    await new Promise((resolve) => {
      const timer = setTimeout(done, remaining);
      const subscription = vscode.lm.onDidChangeChatModels(done);
      function done() {
        clearTimeout(timer);
        subscription.dispose();
        resolve();
      }
    });
  }
}

function describeModel(model) {
  return { id: model.id, name: model.name, vendor: model.vendor, family: model.family, version: model.version, maxInputTokens: model.maxInputTokens };
}

/** Written to a temp name and renamed, so the test never reads a half-written file. */
function writeResult(file, result) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, JSON.stringify(result, null, 2));
  fs.renameSync(temp, file);
}

async function queryModels() {
  const config = vscode.workspace.getConfiguration('isartorLmClient');
  const file = config.get('resultFile') || path.join(os.homedir(), 'isartor-lm-client-result.json');
  const result = { vendor: config.get('vendor'), models: [], answer: null, error: null, finishedAt: null };
  try {
    const models = await selectModels(result.vendor, Math.max(0, Number(config.get('waitForModelsSeconds')) * 1000));
    result.models = models.map(describeModel);
    if (models.length > 0) {
      const messages = [vscode.LanguageModelChatMessage.User(config.get('prompt'))];
      const cancellation = new vscode.CancellationTokenSource();
      const response = await models[0].sendRequest(messages, { justification: 'The Isartor end-to-end test checks the model answers.' }, cancellation.token);
      let text = '';
      for await (const fragment of response.text) text += fragment;
      result.answer = text;
    }
  } catch (error) {
    result.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  }
  result.finishedAt = new Date().toISOString();
  writeResult(file, result);
}

/**
 * The extension host's event-loop delay while it runs: every extension (Isartor's proxy included)
 * shares this thread, so a stall here is a stall for all of them. Two views: Node's delay histogram,
 * and the longest gap a 10 ms timer saw between two of its ticks.
 */
let loopMonitor = null;

function startLoopMonitor() {
  const { monitorEventLoopDelay } = require('node:perf_hooks');
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const state = { histogram, last: performance.now(), maxGapMs: 0, ticks: 0, timer: null };
  state.timer = setInterval(() => {
    const now = performance.now();
    state.maxGapMs = Math.max(state.maxGapMs, now - state.last - 10);
    state.last = now;
    state.ticks++;
  }, 10);
  loopMonitor = state;
}

function stopLoopMonitor() {
  const file = vscode.workspace.getConfiguration('isartorLmClient').get('loopDelayFile') || path.join(os.homedir(), 'isartor-loop-delay.json');
  const state = loopMonitor;
  loopMonitor = null;
  if (!state) return writeResult(file, { error: 'the monitor was not started' });
  clearInterval(state.timer);
  state.histogram.disable();
  const ms = (nanoseconds) => Math.round((nanoseconds / 1e6) * 100) / 100;
  writeResult(file, {
    p50Ms: ms(state.histogram.percentile(50)),
    p99Ms: ms(state.histogram.percentile(99)),
    maxMs: ms(state.histogram.max),
    maxTimerGapMs: Math.round(state.maxGapMs * 100) / 100,
    ticks: state.ticks,
  });
}

function activate(context) {
  context.subscriptions.push(vscode.commands.registerCommand('isartorLmClient.queryModels', queryModels));
  context.subscriptions.push(vscode.commands.registerCommand('isartorLmClient.startLoopMonitor', startLoopMonitor));
  context.subscriptions.push(vscode.commands.registerCommand('isartorLmClient.stopLoopMonitor', stopLoopMonitor));
}

function deactivate() {}

module.exports = { activate, deactivate };
