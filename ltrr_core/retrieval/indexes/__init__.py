"""Heavy retrieval indexes built from a catalog: BM25, dense (faiss), embedder, Q2E memory."""
