#!/usr/bin/env python3
# bench/torch_peer.py: the shapes of `make bench` run through PyTorch, so
# attnlab can be compared with a peer on the same machine in the same run
# (bench/peer.sh sets the threads, the OpenMP OpenBLAS and malloc tunables).
#
# Debian's PyTorch (1.13) has no fused scaled_dot_product_attention: its
# attention is softmax(q k^T / sqrt(d)) v with the T x T matrix held, and the
# causal form masks a full matrix (it costs the same). Timings are the
# median of n runs after one warm-up, as attn.time takes them.
import math
import statistics
import sys
import time

import torch
import torch.nn.functional as F

THREADS = int(sys.argv[1]) if len(sys.argv) > 1 else 2
torch.set_num_threads(THREADS)
torch.manual_seed(1)


def median_time(fn, n=5):
    fn()
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def sdpa(q, k, v, causal):
    s = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if causal:
        T = s.shape[-1]
        mask = torch.ones(T, T, dtype=torch.bool).triu(1)
        s = s.masked_fill(mask, float("-inf"))
    return s.softmax(-1) @ v


def bench_sdpa():
    print("torch sdpa (materialised), B=1 H=12 D=64, %d threads" % THREADS)
    print("%-6s %-7s %10s %10s" % ("T", "causal", "fwd ms", "GFLOP/s"))
    with torch.no_grad():
        for T in (256, 1024, 2048):
            q, k, v = (torch.randn(1, 12, T, 64) for _ in range(3))
            for causal in (False, True):
                sec = median_time(lambda: sdpa(q, k, v, causal), 3 if T >= 2048 else 5)
                # The same FLOP count as bench/attention.lua: causal work is half.
                flops = 4 * 12 * T * T * 64 * (0.5 if causal else 1)
                print("%-6d %-7s %10.2f %10.1f" % (T, causal, sec * 1e3, flops / sec * 1e-9))


class Block(torch.nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = torch.nn.LayerNorm(d), torch.nn.LayerNorm(d)
        self.qkv, self.proj = torch.nn.Linear(d, 3 * d), torch.nn.Linear(d, d)
        self.fc, self.out = torch.nn.Linear(d, 4 * d), torch.nn.Linear(4 * d, d)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, self.heads, C // self.heads).transpose(1, 2) for t in (q, k, v))
        y = sdpa(q, k, v, True).transpose(1, 2).reshape(B, T, C)
        x = x + self.proj(y)
        return x + self.out(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class GPT(torch.nn.Module):
    def __init__(self, vocab, ctx, layers, heads, d):
        super().__init__()
        self.tok, self.pos = torch.nn.Embedding(vocab, d), torch.nn.Embedding(ctx, d)
        self.blocks = torch.nn.ModuleList(Block(d, heads) for _ in range(layers))
        self.ln = torch.nn.LayerNorm(d)

    def forward(self, ids):
        x = self.tok(ids) + self.pos(torch.arange(ids.shape[1]))
        for b in self.blocks:
            x = b(x)
        return self.ln(x) @ self.tok.weight.t()  # the lm head tied to the embedding


def bench_models():
    print()
    print("torch GPT-2 small forward and the tiny train step, %d threads" % THREADS)
    m = GPT(50257, 1024, 12, 12, 768).eval()
    with torch.no_grad():
        for T in (128, 256, 1024):
            ids = torch.tensor([[(i * 7919) % 50257 for i in range(1, T + 1)]])
            sec = median_time(lambda: m(ids), 3)
            print("%-28s %10.1f ms %10.0f tokens/s" % ("gpt2_small T = %d" % T, sec * 1e3, T / sec))
    del m
    small = GPT(256, 64, 4, 4, 128)
    opt = torch.optim.AdamW(small.parameters(), lr=3e-4)
    B, T = 16, 64
    xs = torch.tensor([[(b * 31 + t * 17) % 256 for t in range(1, T + 1)] for b in range(1, B + 1)])
    ys = torch.tensor([[(b * 31 + t * 17 + 17) % 256 for t in range(1, T + 1)] for b in range(1, B + 1)])

    def step():
        opt.zero_grad()
        F.cross_entropy(small(xs).view(-1, 256), ys.view(-1)).backward()
        opt.step()

    sec = median_time(step, 10)
    print("%-28s %10.1f ms %10.0f tokens/s" % ("train step 4L d128 T64 B16", sec * 1e3, B * T / sec))


bench_sdpa()
bench_models()
