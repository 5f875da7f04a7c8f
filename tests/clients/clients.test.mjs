// The official JavaScript clients against `lightseek serve --scripted` (tests/clients/run.sh starts
// the server and sets LIGHTSEEK_URL and LIGHTSEEK_API_KEY). Every generating request consumes the
// next completion of completions.mjs, so the tests run one at a time and in file order.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import Anthropic from '@anthropic-ai/sdk';
import { Ollama } from 'ollama';
import OpenAI from 'openai';

import { COMPLETIONS } from './completions.mjs';

const baseURL = process.env.LIGHTSEEK_URL;
const apiKey = process.env.LIGHTSEEK_API_KEY;
if (!baseURL || !apiKey) throw new Error('LIGHTSEEK_URL and LIGHTSEEK_API_KEY must be set (tests/clients/run.sh sets them)');
const MODEL = 'lightseek-builtin';
const sequential = { concurrency: 1 };

// Token count of a completion as the server counts it: its tokens plus the end-of-sentence token.
async function completionTokens(text) {
  const response = await fetch(`${baseURL}/tokenize`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ content: text }),
  });
  assert.equal(response.status, 200);
  return (await response.json()).tokens.length + 1;
}

const openaiTools = [{
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather forecast',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' }, days: { type: 'integer' } },
      required: ['city'],
    },
  },
}];

describe('openai', sequential, () => {
  const client = new OpenAI({ baseURL: `${baseURL}/v1`, apiKey, maxRetries: 0 });

  test('plain chat splits reasoning and content', async () => {
    const completion = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'What is 2+2?' }],
      thinking: { type: 'enabled' },
    });
    assert.equal(completion.object, 'chat.completion');
    assert.equal(completion.model, MODEL);
    assert.equal(completion.choices.length, 1);
    const choice = completion.choices[0];
    assert.equal(choice.message.role, 'assistant');
    assert.equal(choice.message.reasoning_content, 'Two plus two.');
    assert.equal(choice.message.content, 'It is 4.');
    assert.equal(choice.finish_reason, 'stop');
    assert.equal(completion.usage.completion_tokens, await completionTokens(COMPLETIONS.openaiPlain));
    assert.equal(completion.usage.total_tokens, completion.usage.prompt_tokens + completion.usage.completion_tokens);
  });

  test('streamed chat: deltas, finish_reason and usage', async () => {
    const stream = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Count to three.' }],
      thinking: { type: 'enabled' },
      stream: true,
      stream_options: { include_usage: true },
    });
    let reasoning = '';
    let content = '';
    let finishReason = null;
    let usage = null;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks += 1;
      assert.equal(chunk.object, 'chat.completion.chunk');
      if (chunk.usage) usage = chunk.usage;
      if (chunk.choices.length === 0) continue;
      const { delta } = chunk.choices[0];
      if (delta.reasoning_content) reasoning += delta.reasoning_content;
      if (delta.content) content += delta.content;
      if (chunk.choices[0].finish_reason) finishReason = chunk.choices[0].finish_reason;
    }
    assert.ok(chunks > 3, `only ${chunks} chunks`);
    assert.equal(reasoning, 'Counting up.');
    assert.equal(content, 'One, two, three.');
    assert.equal(finishReason, 'stop');
    assert.ok(usage, 'no usage chunk');
    assert.equal(usage.completion_tokens, await completionTokens(COMPLETIONS.openaiStream));
    assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
  });

  test('tool call round trip', async () => {
    const messages = [{ role: 'user', content: 'Weather in Paris?' }];
    const first = await client.chat.completions.create({
      model: MODEL, messages, tools: openaiTools, thinking: { type: 'enabled' },
    });
    const choice = first.choices[0];
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.reasoning_content, 'One city, one call.');
    assert.equal(choice.message.content, 'Checking Paris.');
    assert.equal(choice.message.tool_calls.length, 1);
    const call = choice.message.tool_calls[0];
    assert.equal(call.type, 'function');
    assert.match(call.id, /^call_/);
    assert.equal(call.function.name, 'get_weather');
    assert.equal(call.function.arguments, '{"city":"Paris","days":2}');
    assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Paris', days: 2 });

    messages.push(choice.message);
    messages.push({ role: 'tool', tool_call_id: call.id, content: '18C' });
    const second = await client.chat.completions.create({
      model: MODEL, messages, tools: openaiTools, thinking: { type: 'enabled' },
    });
    assert.equal(second.choices[0].finish_reason, 'stop');
    assert.equal(second.choices[0].message.reasoning_content, 'The tool said 18C.');
    assert.equal(second.choices[0].message.content, 'Paris: 18C for two days.');
    assert.equal(second.choices[0].message.tool_calls, undefined);
    assert.ok(second.usage.prompt_tokens > first.usage.prompt_tokens + first.usage.completion_tokens - 1);
  });

  test('thinking disabled gives content only', async () => {
    const completion = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Say something plain.' }],
      thinking: { type: 'disabled' },
    });
    const { message } = completion.choices[0];
    assert.equal(message.content, 'Plain content only.');
    assert.equal(message.reasoning_content, undefined);
    assert.equal(completion.choices[0].finish_reason, 'stop');
  });

  test('a bad api key is an AuthenticationError (401)', async () => {
    const bad = new OpenAI({ baseURL: `${baseURL}/v1`, apiKey: 'wrong-key', maxRetries: 0 });
    await assert.rejects(
      bad.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] }),
      (error) => {
        assert.ok(error instanceof OpenAI.AuthenticationError, `got ${error}`);
        assert.equal(error.status, 401);
        return true;
      });
  });

  test('an unknown model is a NotFoundError (404)', async () => {
    await assert.rejects(
      client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] }),
      (error) => {
        assert.ok(error instanceof OpenAI.NotFoundError, `got ${error}`);
        assert.equal(error.status, 404);
        return true;
      });
  });

  test('models.list shows the model', async () => {
    const ids = [];
    for await (const model of client.models.list()) ids.push(model.id);
    assert.deepEqual(ids, [MODEL]);
  });
});

const anthropicTools = [{
  name: 'get_weather',
  description: 'Weather forecast',
  input_schema: openaiTools[0].function.parameters,
}];

describe('@anthropic-ai/sdk', sequential, () => {
  const client = new Anthropic({ baseURL, apiKey, maxRetries: 0 });
  let plainInputTokens = 0;

  test('messages.create', async () => {
    const message = await client.messages.create({
      model: MODEL,
      max_tokens: 256,
      messages: [{ role: 'user', content: 'Say hello.' }],
    });
    assert.equal(message.type, 'message');
    assert.equal(message.role, 'assistant');
    assert.equal(message.model, MODEL);
    assert.match(message.id, /^msg_/);
    assert.deepEqual(message.content, [{ type: 'text', text: 'Hello from the messages API.' }]);
    assert.equal(message.stop_reason, 'end_turn');
    assert.equal(message.usage.output_tokens, await completionTokens(COMPLETIONS.anthropicPlain));
    assert.ok(message.usage.input_tokens > 1);
    plainInputTokens = message.usage.input_tokens;
  });

  test('messages.stream and finalMessage', async () => {
    const stream = client.messages.stream({
      model: MODEL,
      max_tokens: 2048,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: [{ role: 'user', content: 'Stream something.' }],
    });
    let text = '';
    let thinking = '';
    stream.on('text', (delta) => { text += delta; });
    stream.on('thinking', (delta) => { thinking += delta; });
    const message = await stream.finalMessage();
    assert.equal(thinking, 'Streaming a thought.');
    assert.equal(text, 'Streamed text, then done.');
    assert.equal(message.content.length, 2);
    assert.equal(message.content[0].type, 'thinking');
    assert.equal(message.content[0].thinking, 'Streaming a thought.');
    assert.equal(message.content[1].type, 'text');
    assert.equal(message.content[1].text, 'Streamed text, then done.');
    assert.equal(message.stop_reason, 'end_turn');
    assert.equal(message.usage.output_tokens, await completionTokens(COMPLETIONS.anthropicStream));
  });

  test('thinking enabled gives a thinking block', async () => {
    const message = await client.messages.create({
      model: MODEL,
      max_tokens: 2048,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: [{ role: 'user', content: 'What is 2+2?' }],
    });
    assert.equal(message.content.length, 2);
    assert.equal(message.content[0].type, 'thinking');
    assert.equal(message.content[0].thinking, 'Two plus two.');
    assert.equal(message.content[1].type, 'text');
    assert.equal(message.content[1].text, 'It is 4.');
    assert.equal(message.stop_reason, 'end_turn');
  });

  test('tool_use block with parsed input', async () => {
    const message = await client.messages.create({
      model: MODEL,
      max_tokens: 2048,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      tools: anthropicTools,
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
    });
    assert.equal(message.stop_reason, 'tool_use');
    assert.deepEqual(message.content.map((block) => block.type), ['thinking', 'text', 'tool_use']);
    assert.equal(message.content[0].thinking, 'One city, one call.');
    assert.equal(message.content[1].text, 'Checking Paris.');
    const toolUse = message.content[2];
    assert.match(toolUse.id, /^toolu_/);
    assert.equal(toolUse.name, 'get_weather');
    assert.deepEqual(toolUse.input, { city: 'Paris', days: 2 });
  });

  test('count_tokens matches the input tokens of the same request', async () => {
    const count = await client.messages.countTokens({
      model: MODEL,
      messages: [{ role: 'user', content: 'Say hello.' }],
    });
    assert.equal(count.input_tokens, plainInputTokens);
  });
});

describe('ollama', sequential, () => {
  const ollama = new Ollama({ host: baseURL, headers: { Authorization: `Bearer ${apiKey}` } });

  test('chat, not streamed', async () => {
    const response = await ollama.chat({
      model: MODEL,
      messages: [{ role: 'user', content: 'Say hi.' }],
      stream: false,
    });
    assert.equal(response.model, MODEL);
    assert.equal(response.message.role, 'assistant');
    assert.equal(response.message.content, 'Ollama says hi.');
    assert.equal(response.done, true);
    assert.equal(response.done_reason, 'stop');
    assert.equal(response.eval_count, await completionTokens(COMPLETIONS.ollamaPlain));
  });

  test('chat, streamed', async () => {
    const stream = await ollama.chat({
      model: MODEL,
      messages: [{ role: 'user', content: 'Stream something.' }],
      stream: true,
    });
    let content = '';
    const parts = [];
    for await (const part of stream) {
      parts.push(part);
      content += part.message.content;
    }
    assert.ok(parts.length > 3, `only ${parts.length} parts`);
    assert.equal(content, 'Streamed from the Ollama API, token by token.');
    assert.ok(parts.slice(0, -1).every((part) => part.done === false));
    const last = parts.at(-1);
    assert.equal(last.done, true);
    assert.equal(last.done_reason, 'stop');
    assert.equal(last.eval_count, await completionTokens(COMPLETIONS.ollamaStream));
  });

  test('think: true gives message.thinking', async () => {
    const response = await ollama.chat({
      model: MODEL,
      messages: [{ role: 'user', content: 'What is 2+2?' }],
      think: true,
    });
    assert.equal(response.message.thinking, 'Two plus two.');
    assert.equal(response.message.content, 'It is 4.');
  });

  test('tool_calls', async () => {
    const response = await ollama.chat({
      model: MODEL,
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: openaiTools,
      think: true,
    });
    assert.equal(response.message.thinking, 'One city, one call.');
    assert.equal(response.message.content, 'Checking Paris.');
    assert.equal(response.message.tool_calls.length, 1);
    assert.equal(response.message.tool_calls[0].function.name, 'get_weather');
    assert.deepEqual(response.message.tool_calls[0].function.arguments, { city: 'Paris', days: 2 });
  });

  test('list() shows the model', async () => {
    const { models } = await ollama.list();
    assert.deepEqual(models.map((model) => model.name), [MODEL]);
    assert.equal(models[0].model, MODEL);
  });
});
