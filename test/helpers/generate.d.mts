export declare function rng(seed: number): () => number;
export declare function generatedChunks(size: number, seed?: number): () => Generator<Uint8Array>;
export declare function generatedStream(size: number, seed?: number): ReadableStream<Uint8Array>;
