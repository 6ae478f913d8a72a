#!/usr/bin/python3
"""The official PFGM++ sampler's arithmetic in PyTorch, over a Fieldline bundle's own network: the peer that
Fieldline's speed is compared with (docs/BENCHMARKS.md).

What it reproduces (docs/PHYSICS.md, PFGM++ prior and sampler; the official generate.py):
  * the latent: B ~ Beta(N/2, D/2) (torch.distributions, float32 then float64), R = sigma_max sqrt(D) sqrt(B/(1-B)),
    x0 = R g/|g| with g ~ Normal(0, I_N), one torch generator per seed;
  * EDM's deterministic Heun loop in float64 (S_churn = 0), the network called in float32 and cast back, sigma_i on
    the rho = 7 grid with sigma_n = 0, NFE = 2n - 1;
  * pixels clip(x 127.5 + 128, 0, 255) as uint8.

The network is the bundle's field.onnx, read with Debian's python3-onnx and run as PyTorch ops (Conv2d, linear,
group norm, SiLU, nearest upsampling, attention): the same weights and arithmetic the official EDM U-Net runs, with
GroupNorm and SiLU fused as torch.nn.functional calls, as the official network does, rather than spelled out the
way ONNX spells them (Reshape/InstanceNormalization/Reshape/Mul/Add, Sigmoid/Mul).

Usage:
  /usr/bin/python3 bench/peer/pfgmpp_official.py --bundle models/fmnist-pfgmpp --count 256 --steps 18
  /usr/bin/python3 bench/peer/pfgmpp_official.py --bundle models/fmnist-pfgmpp --check   # ONNX graph vs torch ops

Needs: python3-torch, python3-onnx (Debian). Prints one line: images, seconds, images/s.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper


def attribute(node, name, default=None):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


class OnnxAsTorch(torch.nn.Module):
    """Runs a Fieldline field.onnx as PyTorch ops, fusing the GroupNorm and SiLU patterns the exporter writes."""

    def __init__(self, path, fuse=True):
        super().__init__()
        model = onnx.load(path)
        self.consts = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in model.graph.initializer}
        self.inputs = [i.name for i in model.graph.input]
        self.output = model.graph.output[0].name
        nodes = list(model.graph.node)
        producers = {o: n for n in nodes for o in n.output}
        consumers = {}
        for n in nodes:
            for i in n.input:
                consumers.setdefault(i, []).append(n)
        self.program = []
        skip = set()
        for n in nodes:
            if id(n) in skip:
                continue
            fused = fuse and (self._fuse_group_norm(n, consumers, skip) or self._fuse_silu(n, consumers, skip))
            self.program.append(fused or self._plain(n))

    def _fuse_silu(self, node, consumers, skip):
        # Sigmoid(a) followed by Mul(a, sigmoid(a)) -> silu(a)
        if node.op_type != "Sigmoid":
            return None
        a = node.input[0]
        users = consumers.get(node.output[0], [])
        if len(users) != 1 or users[0].op_type != "Mul" or set(users[0].input) != {a, node.output[0]}:
            return None
        skip.add(id(users[0]))
        out = users[0].output[0]
        return lambda env: env.__setitem__(out, F.silu(env[a]))

    def _fuse_group_norm(self, node, consumers, skip):
        # Reshape(x, [B, G, -1]) -> InstanceNormalization -> Reshape(shape(x)) -> Mul gamma -> Add beta
        if node.op_type != "InstanceNormalization":
            return None
        users = consumers.get(node.output[0], [])
        if len(users) != 1 or users[0].op_type != "Reshape":
            return None
        back = users[0]
        mul = consumers.get(back.output[0], [])
        if len(mul) != 1 or mul[0].op_type != "Mul":
            return None
        add = consumers.get(mul[0].output[0], [])
        if len(add) != 1 or add[0].op_type != "Add":
            return None
        gamma = [i for i in mul[0].input if i in self.consts]
        beta = [i for i in add[0].input if i in self.consts]
        if not gamma or not beta:
            return None
        # The reshape into groups ran before (as a plain node); find the 4-D tensor it came from via the back
        # reshape's shape input, which is Shape(x).
        shape_name = back.input[1]
        eps = attribute(node, "epsilon", 1e-5)
        scale = self.consts[node.input[1]]
        groups = scale.numel()
        g = self.consts[gamma[0]].reshape(-1)
        b = self.consts[beta[0]].reshape(-1)
        out = add[0].output[0]
        skip.update({id(back), id(mul[0]), id(add[0])})

        def run(env):
            x = env[("source", shape_name)]
            env[out] = F.group_norm(x, groups, g, b, eps)

        return run

    def _plain(self, n):
        op, ins, out = n.op_type, list(n.input), n.output[0]
        c = self.consts

        def val(env, name):
            return c[name] if name in c else env[name]

        if op == "Shape":
            # Remember the tensor itself for the fused group norm, and its shape for plain reshapes.
            return lambda env: (env.__setitem__(("source", out), env[ins[0]]),
                                env.__setitem__(out, torch.tensor(env[ins[0]].shape)))
        if op == "Reshape":
            def reshape(env):
                x = val(env, ins[0])
                # ONNX: a 0 copies the input's dimension at that position (allowzero = 0)
                dims = [x.shape[k] if int(d) == 0 else int(d) for k, d in enumerate(val(env, ins[1]))]
                env[out] = x.reshape(dims)

            return reshape
        if op == "Conv":
            stride = attribute(n, "strides", [1, 1])
            pad = attribute(n, "pads", [0, 0, 0, 0])
            w, b = c[ins[1]], c[ins[2]]
            return lambda env: env.__setitem__(out, F.conv2d(env[ins[0]], w, b, stride=stride, padding=pad[:2]))
        if op == "Gemm":
            w, b = c[ins[1]], c[ins[2]]
            return lambda env: env.__setitem__(out, F.linear(env[ins[0]], w, b))
        if op == "InstanceNormalization":
            eps = attribute(n, "epsilon", 1e-5)
            return lambda env: env.__setitem__(out, F.instance_norm(env[ins[0]], weight=c[ins[1]], bias=c[ins[2]],
                                                                   eps=eps))
        if op == "Resize":
            return lambda env: env.__setitem__(out, F.interpolate(env[ins[0]], scale_factor=2, mode="nearest"))
        if op == "Concat":
            axis = attribute(n, "axis")
            return lambda env: env.__setitem__(out, torch.cat([val(env, i) for i in ins], dim=axis))
        if op == "Gather":
            axis = attribute(n, "axis", 0)
            return lambda env: env.__setitem__(out, torch.index_select(val(env, ins[0]), axis, val(env, ins[1])))
        if op == "MatMul":
            return lambda env: env.__setitem__(out, torch.matmul(val(env, ins[0]), val(env, ins[1])))
        if op == "Transpose":
            perm = attribute(n, "perm")
            return lambda env: env.__setitem__(out, val(env, ins[0]).permute(*perm))
        if op == "Softmax":
            axis = attribute(n, "axis", -1)
            return lambda env: env.__setitem__(out, torch.softmax(val(env, ins[0]), dim=axis))
        binary = {"Mul": torch.mul, "Add": torch.add, "Div": torch.div, "Sub": torch.sub}
        if op in binary:
            f = binary[op]
            return lambda env: env.__setitem__(out, f(val(env, ins[0]), val(env, ins[1])))
        unary = {"Sigmoid": torch.sigmoid, "Sqrt": torch.sqrt, "Reciprocal": torch.reciprocal, "Log": torch.log,
                 "Sin": torch.sin, "Cos": torch.cos, "Exp": torch.exp, "Neg": torch.neg}
        if op in unary:
            f = unary[op]
            return lambda env: env.__setitem__(out, f(val(env, ins[0])))
        raise SystemExit("pfgmpp_official.py: the peer does not know ONNX op " + op)

    @torch.no_grad()
    def forward(self, x, cond, label=None):
        env = {"x": x, "cond": cond}
        if label is not None:
            env["label"] = label
        for step in self.program:
            step(env)
        return env[self.output]


def prior(seed, n, d, sigma_max):
    """The official latent for one seed (generate.py: rand_beta_prime, then the uniform direction)."""
    g = torch.Generator().manual_seed(seed)
    # B = Ga / (Ga + Gb) with Ga ~ Gamma(N/2), Gb ~ Gamma(D/2): Beta(N/2, D/2), drawn from the seed's own generator
    # (torch.distributions.Beta takes none).
    ga = torch._standard_gamma(torch.tensor([n / 2.0], dtype=torch.float64).expand(1), generator=g)
    gb = torch._standard_gamma(torch.tensor([d / 2.0], dtype=torch.float64).expand(1), generator=g)
    b = float(ga / (ga + gb))
    r = sigma_max * math.sqrt(d) * math.sqrt(b / (1 - b))
    direction = torch.randn(n, generator=g, dtype=torch.float64)
    return r * direction / direction.norm()


def edm_heun(net, latents, steps, sigma_min, sigma_max, rho, labels=None):
    """EDM's deterministic Heun sampler (S_churn = 0) in float64; the network in float32."""
    i = torch.arange(steps, dtype=torch.float64)
    t = (sigma_max ** (1 / rho) + i / (steps - 1) * (sigma_min ** (1 / rho) - sigma_max ** (1 / rho))) ** rho
    t = torch.cat([t, torch.zeros(1, dtype=torch.float64)])
    x = latents.to(torch.float64)
    rows = x.shape[0]

    def denoise(x, sigma):
        cond = torch.full((rows,), float(sigma), dtype=torch.float32)
        return net(x.to(torch.float32), cond, labels).to(torch.float64)

    for k in range(steps):
        d = (x - denoise(x, t[k])) / t[k]
        x_next = x + (t[k + 1] - t[k]) * d
        if k < steps - 1:
            d2 = (x_next - denoise(x_next, t[k + 1])) / t[k + 1]
            x_next = x + (t[k + 1] - t[k]) * (d + d2) / 2
        x = x_next
    return x


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bundle", required=True, help="A Fieldline PFGM++ bundle directory (model.json, field.onnx).")
    p.add_argument("--count", type=int, default=256, help="Images to generate (seeds 0..count-1). Default: 256.")
    p.add_argument("--batch", type=int, default=64, help="Images per network call (generate.py's default). "
                   "Default: 64.")
    p.add_argument("--steps", type=int, default=18, help="Heun steps n (NFE 2n - 1); 18 is the official default.")
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="torch intra-op threads. Default: all cores.")
    p.add_argument("--out", help="Write the uint8 pixels [count, N] to this .npy file.")
    p.add_argument("--check", action="store_true", help="Compare the torch ops with a plain (unfused) run of the "
                   "same graph on random inputs and exit.")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    meta = json.load(open(os.path.join(a.bundle, "model.json")))
    if meta["kind"] != "pfgmpp":
        raise SystemExit("pfgmpp_official.py: " + a.bundle + " is a " + meta["kind"] + " bundle, not pfgmpp")
    if meta.get("precision", "fp32") != "fp32":
        raise SystemExit("pfgmpp_official.py: the official network is float32; " + a.bundle + " is "
                         + meta["precision"])
    phys = meta["physics"]
    shape = meta["shape"]
    n = shape["channels"] * shape["height"] * shape["width"]
    net = OnnxAsTorch(os.path.join(a.bundle, "field.onnx"))
    if a.check:
        torch.manual_seed(0)
        x = torch.randn(8, n) * 3
        c = torch.exp(torch.randn(8) * 2)
        label = torch.full((8,), len(meta["classes"]), dtype=torch.int64) if meta.get("classes") else None
        fused = net(x, c, label)
        plain = OnnxAsTorch(os.path.join(a.bundle, "field.onnx"), fuse=False)(x, c, label)
        err = float((fused - plain).norm() / plain.norm())
        print("fused vs op-by-op: relative difference %.2e over output %s" % (err, tuple(fused.shape)))
        return 0 if err < 1e-5 else 1
    start = time.perf_counter()
    pixels = []
    for first in range(0, a.count, a.batch):
        seeds = range(first, min(a.count, first + a.batch))
        latents = torch.stack([prior(s, n, phys["D"], phys["sigmaMax"]) for s in seeds])
        x = edm_heun(net, latents, a.steps, phys["sigmaMin"], phys["sigmaMax"], phys["rho"])
        pixels.append((x * 127.5 + 128).clip(0, 255).to(torch.uint8))
    elapsed = time.perf_counter() - start
    images = torch.cat(pixels)
    if a.out:
        np.save(a.out, images.numpy())
    print("official PFGM++ Heun (n=%d, NFE %d): %d images in %.2f s, %.1f images/s (%d threads)"
          % (a.steps, 2 * a.steps - 1, a.count, elapsed, a.count / elapsed, a.threads))


if __name__ == "__main__":
    sys.exit(main())
