// Asks the demo model one question through the official openai npm client, as a user's program
// would: non-streaming, streaming, and non-streaming with thinking switched off.
//   node ask_demo.mjs BASE_URL API_KEY QUESTION
// Prints {full, streamed, no_thinking}, each {content, reasoning, finish}.
import OpenAI from 'openai';

const [baseURL, apiKey, question] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 60_000 });
const request = { model: 'demo', messages: [{ role: 'user', content: question }], max_tokens: 16, temperature: 0 };

function summary(message, finish) {
  return { content: message.content ?? '', reasoning: message.reasoning_content ?? '', finish };
}

const full = await client.chat.completions.create(request);

const stream = await client.chat.completions.create({ ...request, stream: true });
const streamed = { content: '', reasoning: '', finish: null };
for await (const chunk of stream) {
  for (const choice of chunk.choices) {
    streamed.content += choice.delta.content ?? '';
    streamed.reasoning += choice.delta.reasoning_content ?? '';
    if (choice.finish_reason) streamed.finish = choice.finish_reason;
  }
}

const plain = await client.chat.completions.create({ ...request, chat_template_kwargs: { enable_thinking: false } });

console.log(JSON.stringify({
  full: summary(full.choices[0].message, full.choices[0].finish_reason),
  streamed,
  no_thinking: summary(plain.choices[0].message, plain.choices[0].finish_reason),
}));
