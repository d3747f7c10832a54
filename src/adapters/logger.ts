import * as vscode from 'vscode';
import type { Logger } from '../core/logger';

/** The extension's one LogOutputChannel, behind the core's Logger interface. */
export class ChannelLogger implements Logger, vscode.Disposable {
  readonly channel: vscode.LogOutputChannel;
  constructor(name = 'Hailo Workbench') {
    this.channel = vscode.window.createOutputChannel(name, { log: true });
  }
  trace(m: string, ...a: unknown[]) {
    this.channel.trace(m, ...a);
  }
  debug(m: string, ...a: unknown[]) {
    this.channel.debug(m, ...a);
  }
  info(m: string, ...a: unknown[]) {
    this.channel.info(m, ...a);
  }
  warn(m: string, ...a: unknown[]) {
    this.channel.warn(m, ...a);
  }
  error(m: string | Error, ...a: unknown[]) {
    this.channel.error(m, ...a);
  }
  /** Append raw tool output (streamed process output) without a level prefix per chunk. */
  append(text: string) {
    this.channel.append(text);
  }
  show() {
    this.channel.show(true);
  }
  dispose() {
    this.channel.dispose();
  }
}
