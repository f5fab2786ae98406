import { describe, expect, it } from "vitest";
import { memoryAdapter } from "../../src/adapters/memory.js";
import { describeAdapterConformance, readAll } from "./conformance.js";

describeAdapterConformance("memory", async () => ({ adapter: memoryAdapter() }));

describe("memoryAdapter", () => {
  it("keeps separate adapters separate", async () => {
    const a = memoryAdapter();
    const b = memoryAdapter();
    await a.put("k", new Uint8Array([1]));
    expect(await b.get("k")).toBeNull();
  });

  it("makes a stream body visible only once the stream has ended", async () => {
    const adapter = memoryAdapter();
    let finish!: () => void;
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(new Uint8Array([1, 2, 3]));
        await new Promise<void>((resolve) => (finish = resolve));
        controller.close();
      },
    });
    const put = adapter.put("k", body);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await adapter.get("k")).toBeNull();
    finish();
    await put;
    const got = await adapter.get("k");
    expect([...(await readAll(got!.body))]).toEqual([1, 2, 3]);
  });

  it("refuses an empty key", async () => {
    await expect(memoryAdapter().put("", new Uint8Array())).rejects.toMatchObject({ code: "INVALID_KEY" });
  });
});
