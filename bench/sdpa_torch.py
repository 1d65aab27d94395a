"""bench/sdpa_torch.py: PyTorch's scaled_dot_product_attention in fp32 on the
same shapes as bench/cuda.lua (B = 1..8, H = 12, D = 64, T = 512..8192,
causal and not), printed in the same columns so the two tables sit side by
side. Needs torch with CUDA; run it in the same session as bench/cuda.lua."""
import os
import time

import torch
import torch.nn.functional as F


def timed(fn, runs):
    fn()  # warm-up
    torch.cuda.synchronize()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


def main():
    torch.backends.cuda.matmul.allow_tf32 = False  # fp32, as attnlab's default
    dev = torch.device("cuda")
    print("device:", torch.cuda.get_device_name(dev), "torch", torch.__version__)
    quick = os.getenv("BENCH_QUICK") == "1"
    bs = [1, 8] if quick else [1, 2, 4, 8]
    ts = [512, 2048] if quick else [512, 1024, 2048, 4096, 8192]
    print(f"{'B':<3} {'T':<5} {'causal':<6} {'fwd ms':>10} {'TFLOP/s':>8} {'fwd+bwd ms':>12} {'TFLOP/s':>8}")
    for b in bs:
        for t in ts:
            q, k, v = (torch.randn(b, 12, t, 64, device=dev) for _ in range(3))
            qg, kg, vg = (x.clone().requires_grad_(True) for x in (q, k, v))
            for causal in (False, True):
                flops = 4 * b * 12 * t * t * 64 * (0.5 if causal else 1)
                runs = 3 if t >= 4096 else 5
                fwd = timed(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=causal), runs)
                both = timed(lambda: F.scaled_dot_product_attention(
                    qg, kg, vg, is_causal=causal).sum().backward(), runs)
                print(f"{b:<3} {t:<5} {str(causal).lower():<6} {fwd * 1e3:>10.2f} "
                      f"{flops / fwd * 1e-12:>8.2f} {both * 1e3:>12.2f} {2.5 * flops / both * 1e-12:>8.2f}")


if __name__ == "__main__":
    main()
