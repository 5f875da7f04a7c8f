// The official openai client's structured-output calls (response_format, strict tools) against
// `lightseek serve` on the built-in model (random weights: only constrained decoding can make its
// answers valid). Started by
// `tests/clients/run.sh LIGHTSEEK_BIN model`; every answer is checked by ajv, a validator that
// shares no code with lightseek.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import Ajv from 'ajv';
import OpenAI from 'openai';

const baseURL = process.env.LIGHTSEEK_URL;
const apiKey = process.env.LIGHTSEEK_API_KEY;
if (!baseURL || !apiKey) throw new Error('LIGHTSEEK_URL and LIGHTSEEK_API_KEY must be set (tests/clients/run.sh sets them)');
const MODEL = 'lightseek-builtin';
const client = new OpenAI({ baseURL: `${baseURL}/v1`, apiKey, maxRetries: 0, timeout: 120_000 });
const ajv = new Ajv({ strict: false });

const person = {
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 12 },
    age: { type: 'integer', minimum: 0, maximum: 120 },
    role: { enum: ['admin', 'user', 'guest'] },
    tags: { type: 'array', items: { type: 'string', maxLength: 6 }, maxItems: 3 },
  },
  required: ['name', 'age', 'role'],
  additionalProperties: false,
};
const validPerson = ajv.compile(person);
const messages = [{ role: 'user', content: 'Describe a user of the system as JSON.' }];

describe('openai structured output', { concurrency: 1 }, () => {
  for (const seed of [1, 2, 3, 4]) {
    test(`chat.completions.parse with a json_schema, seed ${seed}`, async () => {
      const completion = await client.chat.completions.parse({
        model: MODEL,
        messages,
        seed,
        temperature: 1,
        max_tokens: 300,
        response_format: { type: 'json_schema', json_schema: { name: 'person', strict: true, schema: person } },
      });
      const choice = completion.choices[0];
      assert.equal(choice.finish_reason, 'stop', choice.message.content);
      assert.ok(validPerson(choice.message.parsed), `${choice.message.content}: ${ajv.errorsText(validPerson.errors)}`);
    });
  }

  test('a streamed json_schema answer is valid once its deltas are joined', async () => {
    const stream = await client.chat.completions.create({
      model: MODEL,
      messages,
      seed: 9,
      max_tokens: 300,
      stream: true,
      response_format: { type: 'json_schema', json_schema: { name: 'person', schema: person } },
    });
    let text = '';
    let finish = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(finish, 'stop', text);
    assert.ok(validPerson(JSON.parse(text)), `${text}: ${ajv.errorsText(validPerson.errors)}`);
  });

  test('json_object answers are JSON objects', async () => {
    // Random weights may not close a free string within the budget (finish_reason "length"), so
    // several seeds: every finished answer must be an object, and some must finish.
    let finished = 0;
    for (const seed of [1, 2, 3, 4, 5]) {
      const completion = await client.chat.completions.create({
        model: MODEL,
        messages,
        seed,
        max_tokens: 200,
        response_format: { type: 'json_object' },
      });
      const choice = completion.choices[0];
      if (choice.finish_reason === 'length') continue;
      assert.equal(choice.finish_reason, 'stop');
      const value = JSON.parse(choice.message.content);
      assert.ok(value !== null && typeof value === 'object' && !Array.isArray(value), choice.message.content);
      ++finished;
    }
    assert.ok(finished > 0, 'no seed finished its object within 200 tokens');
  });

  test('strict tool calls with tool_choice required have arguments the schema accepts', async () => {
    const weather = {
      type: 'object',
      properties: {
        city: { type: 'string', minLength: 1, maxLength: 8 },
        unit: { enum: ['celsius', 'fahrenheit'] },
        days: { type: 'integer', minimum: 1, maximum: 7 },
      },
      required: ['city', 'unit'],
      additionalProperties: false,
    };
    const validArguments = ajv.compile(weather);
    for (const seed of [1, 2]) {
      const completion = await client.chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
        seed,
        temperature: 1,
        max_tokens: 300,
        tools: [{ type: 'function', function: { name: 'get_weather', parameters: weather, strict: true } }],
        tool_choice: 'required',
        parallel_tool_calls: false,
      });
      const choice = completion.choices[0];
      assert.equal(choice.finish_reason, 'tool_calls', JSON.stringify(choice.message));
      assert.equal(choice.message.tool_calls.length, 1);
      const call = choice.message.tool_calls[0];
      assert.equal(call.function.name, 'get_weather');
      const args = JSON.parse(call.function.arguments);
      assert.ok(validArguments(args), `${call.function.arguments}: ${ajv.errorsText(validArguments.errors)}`);
    }
  });

  test('an unsupported schema keyword in a strict tool is a 400 naming its path', async () => {
    await assert.rejects(
      client.chat.completions.create({
        model: MODEL,
        messages,
        tools: [{ type: 'function', function: { name: 'f', strict: true,
                                                parameters: { type: 'object', properties: { d: { type: 'string', format: 'date' } } } } }],
      }),
      (error) => error instanceof OpenAI.BadRequestError && /tools\[0\]\.function\.parameters\.properties\.d/.test(error.message),
    );
  });

  test('an unsupported schema keyword is a 400 naming it', async () => {
    await assert.rejects(
      client.chat.completions.create({
        model: MODEL,
        messages,
        response_format: {
          type: 'json_schema',
          json_schema: { name: 'x', schema: { type: 'object', properties: { a: { type: 'string', format: 'email' } } } },
        },
      }),
      (error) => error instanceof OpenAI.BadRequestError && /format/.test(error.message),
    );
  });
});
