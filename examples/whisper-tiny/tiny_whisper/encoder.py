"""Whisper-style audio encoder with tiny dimensions.

Same structure as Whisper-small's encoder (two Conv1d + GELU stems, the second with stride 2,
fixed sinusoidal positions, pre-LayerNorm attention blocks, a final LayerNorm), so the exported
ONNX has the same operators and the same 1500-step output, at a size that fits in a repository:
80 mel bins x 3000 frames in, 1500 x 64 features out, two blocks.
"""
import math

import torch
from torch import nn


def sinusoids(length: int, channels: int, max_timescale: float = 10000.0) -> torch.Tensor:
    """Whisper's fixed positional embedding: [length, channels], sin then cos halves."""
    assert channels % 2 == 0
    log_timescale_increment = math.log(max_timescale) / (channels // 2 - 1)
    inv_timescales = torch.exp(-log_timescale_increment * torch.arange(channels // 2, dtype=torch.float32))
    scaled_time = torch.arange(length, dtype=torch.float32)[:, None] * inv_timescales[None, :]
    return torch.cat([torch.sin(scaled_time), torch.cos(scaled_time)], dim=1)


class SelfAttention(nn.Module):
    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.query = nn.Linear(width, width)
        self.key = nn.Linear(width, width, bias=False)
        self.value = nn.Linear(width, width)
        self.out = nn.Linear(width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, steps, width = x.shape
        head_dim = width // self.heads
        q = self.query(x).view(batch, steps, self.heads, head_dim).permute(0, 2, 1, 3)
        k = self.key(x).view(batch, steps, self.heads, head_dim).permute(0, 2, 3, 1)
        v = self.value(x).view(batch, steps, self.heads, head_dim).permute(0, 2, 1, 3)
        scores = torch.matmul(q, k) * (head_dim ** -0.5)
        weights = torch.softmax(scores, dim=-1)
        context = torch.matmul(weights, v).permute(0, 2, 1, 3).reshape(batch, steps, width)
        return self.out(context)


class ResidualAttentionBlock(nn.Module):
    def __init__(self, width: int, heads: int):
        super().__init__()
        self.attn_ln = nn.LayerNorm(width)
        self.attn = SelfAttention(width, heads)
        self.mlp_ln = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.attn_ln(x))
        x = x + self.mlp(self.mlp_ln(x))
        return x


class AudioEncoder(nn.Module):
    def __init__(self, n_mels: int = 80, n_ctx: int = 1500, width: int = 64, heads: int = 2, layers: int = 2):
        super().__init__()
        self.conv1 = nn.Conv1d(n_mels, width, kernel_size=3, padding=1)
        self.conv2 = nn.Conv1d(width, width, kernel_size=3, stride=2, padding=1)
        self.register_buffer("positional_embedding", sinusoids(n_ctx, width))
        self.blocks = nn.ModuleList([ResidualAttentionBlock(width, heads) for _ in range(layers)])
        self.ln_post = nn.LayerNorm(width)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        x = nn.functional.gelu(self.conv1(mel))
        x = nn.functional.gelu(self.conv2(x))
        x = x.permute(0, 2, 1)
        x = x + self.positional_embedding
        for block in self.blocks:
            x = block(x)
        return self.ln_post(x)


def build() -> nn.Module:
    """The factory named in hailo.json (`tiny_whisper.encoder:build`): deterministic weights."""
    torch.manual_seed(0)
    return AudioEncoder().eval()
