/*===- test_kernels.c - a tiny kernel library for the HAL tests -----------===*
 *
 * Test fixture, not model math: trivial kernels with the packed calling
 * convention of compiled kernel libraries (args[i] points to the i-th
 * argument: bindings, then scalars, then begin/end), so the HAL's replay
 * (pointers, per-layer slices, scalars, ranges) and the generation loop can
 * be checked without the compiler.
 *
 *===----------------------------------------------------------------------===*/

#include <stdint.h>

/* out[i] += w[i] + pos + 100 * layer for i in [begin, end).
 * Bindings: out (buffer), w (per-layer weight); scalars pos, layer; range. */
void k_accumulate_packed(void **args) {
  float *out = *(float **)args[0];
  const float *w = *(const float **)args[1];
  int64_t pos = *(int64_t *)args[2];
  int64_t layer = *(int64_t *)args[3];
  int64_t begin = *(int64_t *)args[4];
  int64_t end = *(int64_t *)args[5];
  for (int64_t i = begin; i < end; ++i)
    out[i] += w[i] + (float)pos + 100.0f * (float)layer;
}

/* counts[i] += 1 for i in [begin, end): coverage of a range. */
void k_count_packed(void **args) {
  int32_t *counts = *(int32_t **)args[0];
  int64_t begin = *(int64_t *)args[1];
  int64_t end = *(int64_t *)args[2];
  for (int64_t i = begin; i < end; ++i)
    counts[i] += 1;
}

/* Records its scalars and how often it ran (no range: one call).
 * Bindings: log (buffer of int64); scalars layer, pos. */
void k_record_packed(void **args) {
  int64_t *log = *(int64_t **)args[0];
  int64_t layer = *(int64_t *)args[1];
  int64_t pos = *(int64_t *)args[2];
  log[0] += 1;
  log[1] = layer;
  log[2] = pos;
}

/* A fake language model for the generation-loop tests, in two kernels.
 *
 * k_store (no range): k_cache[pos + r] = tokens[r] for r in [0, T), where T
 * is vocab_and_tokens[1]. Bindings: k_cache, tokens, weight
 * vocab_and_tokens (f32 [2]: vocab, T); scalar pos.
 *
 * k_logits (range T): row r of logits is one-hot at
 * (sum of k_cache[0 .. pos + r]) % vocab. Bindings: logits, k_cache, weight
 * vocab_and_tokens; scalar pos. So the next token depends on every token
 * before it at its exact position: a wrong pos, chunking or cache binding
 * changes the sequence. */
void k_store_packed(void **args) {
  float *cache = *(float **)args[0];
  const int32_t *tokens = *(const int32_t **)args[1];
  const float *info = *(const float **)args[2];
  int64_t pos = *(int64_t *)args[3];
  int64_t t = (int64_t)info[1];
  for (int64_t r = 0; r < t; ++r)
    cache[pos + r] = (float)tokens[r];
}

void k_logits_packed(void **args) {
  float *logits = *(float **)args[0];
  const float *cache = *(const float **)args[1];
  const float *info = *(const float **)args[2];
  int64_t pos = *(int64_t *)args[3];
  int64_t begin = *(int64_t *)args[4];
  int64_t end = *(int64_t *)args[5];
  int64_t vocab = (int64_t)info[0];
  for (int64_t r = begin; r < end; ++r) {
    double sum = 0;
    for (int64_t q = 0; q <= pos + r; ++q)
      sum += cache[q];
    float *row = logits + r * vocab;
    for (int64_t i = 0; i < vocab; ++i)
      row[i] = 0.0f;
    row[(int64_t)sum % vocab] = 1.0f;
  }
}

/* Bound per layer by the fake model's layer body; does nothing. */
void k_nop_packed(void **args) { (void)args; }
