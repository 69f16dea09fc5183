// Drives `tessera serve` through the official openai npm client, as a user's program would.
//   node openai_client.mjs BASE_URL API_KEY REQUEST_JSON
// REQUEST_JSON: a chat.completions body (model, messages, max_tokens, temperature, ...).
// Prints one JSON object: the non-streaming and streaming results, /v1/models, a plain
// completion of the same prompt text, and how the client reports a 400.
import OpenAI from 'openai';

const [baseURL, apiKey, requestJson, promptText] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 60_000 });
const request = JSON.parse(requestJson);

const full = await client.chat.completions.create({ ...request, stream: false });
const message = full.choices[0].message;

const stream = await client.chat.completions.create({ ...request, stream: true, stream_options: { include_usage: true } });
const streamed = { content: '', reasoning: '', finish: null, usage: null, role: null, chunks: 0, object: null };
for await (const chunk of stream) {
  streamed.chunks += 1;
  streamed.object = chunk.object;
  if (chunk.usage) streamed.usage = chunk.usage;
  for (const choice of chunk.choices) {
    if (choice.delta.role) streamed.role = choice.delta.role;
    streamed.content += choice.delta.content ?? '';
    streamed.reasoning += choice.delta.reasoning_content ?? '';
    if (choice.finish_reason) streamed.finish = choice.finish_reason;
  }
}

const models = await client.models.list();
const completion = await client.completions.create({
  model: request.model, prompt: promptText, max_tokens: request.max_tokens, temperature: 0,
});

let error = null;
try {
  await client.chat.completions.create({ ...request, temperature: -1 });
} catch (e) {
  error = { status: e.status, type: e.type ?? null, param: e.param ?? null };
}

console.log(JSON.stringify({
  nonstream: {
    object: full.object, id: full.id, content: message.content ?? '', reasoning: message.reasoning_content ?? '',
    role: message.role, finish: full.choices[0].finish_reason, usage: full.usage,
  },
  stream: streamed,
  models: models.data.map((m) => m.id),
  completion: { text: completion.choices[0].text, finish: completion.choices[0].finish_reason },
  error,
}));
