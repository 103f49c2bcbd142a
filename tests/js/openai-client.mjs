// Drives a Promptd server with the official `openai` npm client, as an application would, and
// prints what it saw as one JSON object for the .NET tests to check.
//   node openai-client.mjs basics         chat (whole and streamed), models, errors, completions
//   node openai-client.mjs stream-error   one streamed chat whose answer is expected to break off
// Environment: PROMPTD_BASE_URL (…/v1), PROMPTD_API_KEY, PROMPTD_MODEL.
import OpenAI from 'openai';

const client = new OpenAI({
  baseURL: process.env.PROMPTD_BASE_URL,
  apiKey: process.env.PROMPTD_API_KEY,
  maxRetries: 0,
  timeout: 60_000,
});
const model = process.env.PROMPTD_MODEL;
const messages = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Hello the world' },
];
const result = {};
const scenario = process.argv[2] ?? 'basics';

async function errorOf(call) {
  try {
    await call();
    return null;
  } catch (e) {
    return { name: e.constructor.name, status: e.status ?? null, code: e.code ?? null, type: e.type ?? null, param: e.param ?? null, message: e.message };
  }
}

if (scenario === 'stream-error') {
  let text = '';
  result.error = await errorOf(async () => {
    const stream = await client.chat.completions.create({ model, messages, stream: true });
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  });
  result.text = text;
  process.stdout.write(JSON.stringify(result));
  process.exit(0);
}

const completion = await client.chat.completions.create({ model, messages, temperature: 0, max_tokens: 8, seed: 7 });
result.chat = {
  id: completion.id,
  object: completion.object,
  model: completion.model,
  role: completion.choices[0].message.role,
  content: completion.choices[0].message.content,
  finishReason: completion.choices[0].finish_reason,
  usage: completion.usage,
};

const stream = await client.chat.completions.create({
  model, messages, temperature: 0, max_tokens: 8, seed: 7, stream: true, stream_options: { include_usage: true },
});
const streamed = { text: '', chunks: 0, roles: [], finishReasons: [], usage: null, ids: new Set() };
for await (const chunk of stream) {
  streamed.chunks++;
  streamed.ids.add(chunk.id);
  if (chunk.usage) streamed.usage = chunk.usage;
  for (const choice of chunk.choices) {
    if (choice.delta.role) streamed.roles.push(choice.delta.role);
    if (choice.delta.content) streamed.text += choice.delta.content;
    if (choice.finish_reason) streamed.finishReasons.push(choice.finish_reason);
  }
}
streamed.ids = [...streamed.ids];
result.stream = streamed;

const models = [];
for await (const m of client.models.list()) models.push({ id: m.id, object: m.object, owned_by: m.owned_by });
result.models = models;

result.unknownModel = await errorOf(() => client.chat.completions.create({ model: 'no/such-model', messages }));
result.twoChoices = await errorOf(() => client.chat.completions.create({ model, messages, n: 2 }));

const text = await client.completions.create({ model, prompt: 'Hello the', max_tokens: 4, temperature: 0 });
result.completion = { object: text.object, text: text.choices[0].text, finishReason: text.choices[0].finish_reason, usage: text.usage };

process.stdout.write(JSON.stringify(result));
