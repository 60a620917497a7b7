import { Outbox } from "./outbox";

/** An outbox in isolate memory (a Worker isolate has no storage); its sender id is new with every isolate. */
export class MemoryOutbox extends Outbox {
  readonly sender: string;

  constructor(senderPrefix: string) {
    super();
    this.sender = `${senderPrefix}:${crypto.randomUUID()}`;
  }

  protected persist(): void {}
  protected forget(): void {}
}
