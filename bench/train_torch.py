# bench/train_torch.py -- the tiny llama of examples/train/tiny_llama.tl in PyTorch (CPU), for
# bench/train_bench.sh: same shapes (vocabulary 32000 tied, d 128, 4 layers, 4 heads / 2 KV heads
# of 32, SwiGLU 352, context 128, one sequence per step), AdamW lr 3e-3 wd 0.01, clip 1.0.
# Prints the training throughput of STEPS steps after WARMUP steps.
import sys, time
import torch
import torch.nn.functional as F

threads, steps, warmup = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
torch.manual_seed(18)
V, D, L, H, KV, HD, FF, S, EPS = 32000, 128, 4, 4, 2, 32, 352, 128, 1e-5

def p(*shape, std=0.02):
    return torch.nn.Parameter(torch.randn(*shape) * std)

emb = p(V, D)
out_norm = torch.nn.Parameter(torch.ones(D))
layers = [[torch.nn.Parameter(torch.ones(D)), p(H * HD, D), p(KV * HD, D), p(KV * HD, D),
           p(D, H * HD), torch.nn.Parameter(torch.ones(D)), p(FF, D), p(FF, D), p(D, FF)]
          for _ in range(L)]
params = [emb, out_norm] + [t for l in layers for t in l]
opt = torch.optim.AdamW(params, lr=3e-3, weight_decay=0.01)

pos = torch.arange(S, dtype=torch.float32)[:, None]
inv = 10000.0 ** (-torch.arange(0, HD, 2, dtype=torch.float32) / HD)
cos, sin = torch.cos(pos * inv), torch.sin(pos * inv)          # [S, HD/2]
mask = torch.full((S, S), float('-inf')).triu(1)

def rms(x, w):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS) * w

def rope(x):                                                    # x [S, h, HD], adjacent pairs
    a, b = x[..., 0::2], x[..., 1::2]
    c, s = cos[:, None, :], sin[:, None, :]
    return torch.stack((a * c - b * s, a * s + b * c), -1).flatten(-2)

def forward(ids):
    h = emb[ids]
    for w in layers:
        a = rms(h, w[0])
        q = rope((a @ w[1].T).view(S, H, HD))
        k = rope((a @ w[2].T).view(S, KV, HD)).repeat_interleave(H // KV, 1)
        v = (a @ w[3].T).view(S, KV, HD).repeat_interleave(H // KV, 1)
        sc = torch.einsum('ihd,jhd->hij', q, k) / HD ** 0.5 + mask
        o = torch.einsum('hij,jhd->ihd', sc.softmax(-1), v).reshape(S, H * HD)
        h = h + o @ w[4].T
        b = rms(h, w[5])
        h = h + (F.silu(b @ w[6].T) * (b @ w[7].T)) @ w[8].T
    return rms(h, out_norm) @ emb.T

data = torch.randint(0, V, (steps + warmup, S + 1))
for i in range(steps + warmup):
    if i == warmup:
        t0 = time.perf_counter()
    x, y = data[i, :S], data[i, 1:]
    loss = F.cross_entropy(forward(x), y)
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    opt.step()
secs = time.perf_counter() - t0
print('pytorch %s: %d steps of %d tokens in %.2f s: %.1f tokens/s (loss %.3f)'
      % (torch.__version__, steps, S, secs, steps * S / secs, loss.item()))
