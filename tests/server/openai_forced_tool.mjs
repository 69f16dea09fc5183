// A forced tool call (tool_choice "required" or a named function) through the official openai
// npm client.
//   node openai_forced_tool.mjs BASE_URL API_KEY REQUEST_JSON
// Prints one JSON object: the non-streaming and the streamed message (content, reasoning, tool
// calls assembled from their deltas by index) and finish_reason.
import OpenAI from 'openai';

const [baseURL, apiKey, requestJson] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 120_000 });
const request = JSON.parse(requestJson);

const full = await client.chat.completions.create({ ...request, stream: false });
const choice = full.choices[0];

const stream = await client.chat.completions.create({ ...request, stream: true });
const streamed = { content: '', reasoning: '', tool_calls: [], finish: null };
for await (const chunk of stream) {
  for (const c of chunk.choices) {
    streamed.content += c.delta.content ?? '';
    streamed.reasoning += c.delta.reasoning_content ?? '';
    for (const call of c.delta.tool_calls ?? []) {
      const slot = (streamed.tool_calls[call.index] ??= { name: '', arguments: '' });
      slot.name += call.function?.name ?? '';
      slot.arguments += call.function?.arguments ?? '';
    }
    if (c.finish_reason) streamed.finish = c.finish_reason;
  }
}

console.log(JSON.stringify({
  nonstream: {
    content: choice.message.content ?? '', reasoning: choice.message.reasoning_content ?? '',
    tool_calls: (choice.message.tool_calls ?? []).map((c) => ({ name: c.function.name, arguments: c.function.arguments })),
    finish: choice.finish_reason,
  },
  stream: streamed,
}));
