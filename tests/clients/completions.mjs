// The scripted completions `lightseek serve --scripted` answers with, one per generating request,
// in the order clients.test.mjs sends them. Run directly, it prints them as JSON Lines.
import { fileURLToPath } from 'node:url';

export const THINKING_REPLY = 'Two plus two.</think>It is 4.';
export const TOOL_REPLY =
  'One city, one call.</think>Checking Paris.\n\n' +
  '<｜DSML｜tool_calls>\n' +
  '<｜DSML｜invoke name="get_weather">\n' +
  '<｜DSML｜parameter name="city" string="true">Paris</｜DSML｜parameter>\n' +
  '<｜DSML｜parameter name="days" string="false">2</｜DSML｜parameter>\n' +
  '</｜DSML｜invoke>\n' +
  '</｜DSML｜tool_calls>';

export const COMPLETIONS = {
  openaiPlain: THINKING_REPLY,
  openaiStream: 'Counting up.</think>One, two, three.',
  openaiToolCall: TOOL_REPLY,
  openaiToolAnswer: 'The tool said 18C.</think>Paris: 18C for two days.',
  openaiNoThinking: 'Plain content only.',
  anthropicPlain: 'Hello from the messages API.',
  anthropicStream: 'Streaming a thought.</think>Streamed text, then done.',
  anthropicThinking: THINKING_REPLY,
  anthropicToolUse: TOOL_REPLY,
  ollamaPlain: 'Ollama says hi.',
  ollamaStream: 'Streamed from the Ollama API, token by token.',
  ollamaThinking: THINKING_REPLY,
  ollamaToolCall: TOOL_REPLY,
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const text of Object.values(COMPLETIONS)) process.stdout.write(JSON.stringify(text) + '\n');
}
