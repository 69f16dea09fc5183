// Tool-calling requests through the official openai npm client, as an agent would send them.
//   node tools_client.mjs BASE_URL API_KEY REQUEST_JSON
// REQUEST_JSON: a chat.completions body with tools and a tool-call history. Prints one JSON
// object: the non-streaming message and finish_reason, the streamed message assembled from its
// deltas (content, reasoning, tool calls by index), n = 2 choices, and how the client reports
// the 400s for a malformed tool and an unknown tool_choice name.
import OpenAI from 'openai';

const [baseURL, apiKey, requestJson] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 60_000 });
const request = JSON.parse(requestJson);

const full = await client.chat.completions.create({ ...request, stream: false });

const stream = await client.chat.completions.create({ ...request, stream: true });
const streamed = { content: '', reasoning: '', reasoning_content: '', tool_calls: [], finish: null, chunks: 0 };
for await (const chunk of stream) {
  streamed.chunks += 1;
  for (const choice of chunk.choices) {
    streamed.content += choice.delta.content ?? '';
    streamed.reasoning += choice.delta.reasoning ?? '';
    streamed.reasoning_content += choice.delta.reasoning_content ?? '';
    for (const call of choice.delta.tool_calls ?? []) {
      const slot = (streamed.tool_calls[call.index] ??= { id: null, name: '', arguments: '' });
      if (call.id) slot.id = call.id;
      slot.name += call.function?.name ?? '';
      slot.arguments += call.function?.arguments ?? '';
    }
    if (choice.finish_reason) streamed.finish = choice.finish_reason;
  }
}

const two = await client.chat.completions.create({ ...request, n: 2, seed: 11, temperature: 0.8, stream: false });
const twoStream = await client.chat.completions.create({ ...request, n: 2, seed: 11, temperature: 0.8, stream: true });
const twoStreamed = ['', ''];
for await (const chunk of twoStream)
  for (const choice of chunk.choices) twoStreamed[choice.index] += choice.delta.content ?? '';

async function statusOf(body) {
  try {
    await client.chat.completions.create(body);
    return { status: 200 };
  } catch (e) {
    return { status: e.status, param: e.param ?? null };
  }
}
const badTool = await statusOf({ ...request, tools: [{ type: 'function', function: { parameters: {} } }] });
const badChoice = await statusOf({ ...request, tool_choice: { type: 'function', function: { name: 'no_such_tool' } } });

console.log(JSON.stringify({
  nonstream: { message: full.choices[0].message, finish: full.choices[0].finish_reason, usage: full.usage },
  stream: streamed,
  n2: { contents: two.choices.map((c) => c.message.content), indexes: two.choices.map((c) => c.index),
        usage: two.usage, streamed: twoStreamed },
  errors: { badTool, badChoice },
}));
