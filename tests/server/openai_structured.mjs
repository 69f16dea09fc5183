// Structured output through the official openai npm client.
//   node openai_structured.mjs BASE_URL API_KEY REQUEST_JSON
// REQUEST_JSON: a chat.completions body with response_format. Prints one JSON object: the
// non-streaming and the streaming content and finish_reason, and a plain completion with the
// same response_format.
import OpenAI from 'openai';

const [baseURL, apiKey, requestJson] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 120_000 });
const request = JSON.parse(requestJson);

const full = await client.chat.completions.create({ ...request, stream: false });

const stream = await client.chat.completions.create({ ...request, stream: true });
let content = '';
let finish = null;
for await (const chunk of stream) {
  for (const choice of chunk.choices) {
    content += choice.delta.content ?? '';
    if (choice.finish_reason) finish = choice.finish_reason;
  }
}

const completion = await client.completions.create({
  model: request.model, prompt: 'Data:', max_tokens: request.max_tokens, temperature: request.temperature,
  seed: request.seed, response_format: request.response_format,
});

console.log(JSON.stringify({
  nonstream: { content: full.choices[0].message.content ?? '', finish: full.choices[0].finish_reason,
               tokens: full.usage.completion_tokens },
  stream: { content, finish },
  completion: { text: completion.choices[0].text, finish: completion.choices[0].finish_reason },
}));
