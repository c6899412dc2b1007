"""The optimizer base: parameter groups, per-parameter state, zero_grad, state_dict."""
from __future__ import annotations

from typing import Any, Iterable

from ..grad_mode import no_grad
from ..tensor import Tensor
from ._common import scalar, zeros_like


class Optimizer:
    """Base class of the optimizers: parameter groups (``param_groups``, each with its
    hyperparameters), per-parameter ``state``, ``zero_grad``, ``step`` and
    ``state_dict``/``load_state_dict``, as torch.optim.Optimizer."""
    def __init__(self, params: Iterable, defaults: dict) -> None:
        self.defaults = defaults
        self.state: dict[Tensor, dict[str, Any]] = {}
        self.param_groups: list[dict] = []
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got " + type(params).__name__)
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    def add_param_group(self, group: dict) -> None:
        """Adds a group of parameters with its own hyperparameters (the defaults fill the rest)."""
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + type(p).__name__)
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
            if not p.requires_grad:
                raise ValueError("optimizer got a tensor that does not require grad: it would "
                                 "never be updated (call requires_grad_() on it first)")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        full = dict(self.defaults)
        full.update(group)
        full["params"] = params
        self.param_groups.append(full)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clears the gradients of every parameter: to None (the default) or to zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if p._grad is None:
                    continue
                if set_to_none:
                    p._grad = None
                else:
                    p._grad._data[...] = 0

    @no_grad()
    def step(self, closure=None):
        """Updates the parameters from their gradients; ``closure`` (re-evaluating the loss) is
        called with grad enabled and its loss returned."""
        loss = self._closure(closure)
        for group in self.param_groups:
            self._update(group)
        return loss

    def _update(self, group: dict) -> None:
        """One step's update of one parameter group, recording nothing: what an optimizer
        defines, unless it overrides ``step`` (LBFGS, or one written as in PyTorch)."""
        raise NotImplementedError

    @staticmethod
    def _gradients(group: dict, decoupled: bool = False):
        """(parameter, gradient array) for each parameter of ``group`` that has a gradient,
        negated under ``maximize`` and with L2 ``weight_decay`` added unless ``decoupled``."""
        for p in group["params"]:
            if p._grad is None:
                continue
            grad = p._grad._data
            if group.get("maximize"):
                grad = -grad
            if group.get("weight_decay") and not decoupled:
                grad = grad + group["weight_decay"] * p._data
            yield p, grad

    def _steps(self, group: dict, zeros: tuple = (), scalars: dict | None = None,
               decoupled: bool = False):
        """(parameter, gradient array, state, step number) for each parameter of ``group`` that
        has a gradient, begun as every stateful optimizer begins a step: the state made on first
        use (a float32 ``step``, then float32 ``scalars`` and zero tensors named in ``zeros``, in
        PyTorch's order), decoupled weight decay applied to the parameter, the step counted."""
        lr, wd = group["lr"], group["weight_decay"] if decoupled else 0
        for p, grad in self._gradients(group, decoupled):
            state = self.state.setdefault(p, {})
            if not state:
                state["step"] = scalar(0.0)
                for name, value in (scalars or {}).items():
                    state[name] = scalar(value)
                for name in zeros:
                    state[name] = zeros_like(p)
            if wd:
                p._data *= 1 - lr * wd
            state["step"]._data += 1
            yield p, grad, state, float(state["step"]._data)

    def _closure(self, closure):
        if closure is None:
            return None
        from ..grad_mode import enable_grad
        with enable_grad():
            return closure()

    def state_dict(self) -> dict:
        """The optimizer's state and parameter groups, parameters named by index, as
        torch.optim.Optimizer.state_dict."""
        index = {}
        groups = []
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": ids})
        state = {index[id(p)]: dict(s) for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restores state from ``state_dict()``'s output; the groups must match in number and size.
        """
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        for mine, theirs in zip(self.param_groups, groups):
            if len(mine["params"]) != len(theirs["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't "
                                 "match the size of optimizer's group")
        by_id = {}
        for mine, theirs in zip(self.param_groups, groups):
            for p, i in zip(mine["params"], theirs["params"]):
                by_id[i] = p
        state = {}
        for i, s in state_dict["state"].items():
            p = by_id[int(i)]
            state[p] = {k: (v.clone() if isinstance(v, Tensor) else v) for k, v in s.items()}
        self.state = state
        for mine, theirs in zip(self.param_groups, groups):
            for k, v in theirs.items():
                if k != "params":
                    mine[k] = v

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(group):
                if k != "params":
                    lines.append(f"    {k}: {group[k]}")
        lines.append(")")
        return "\n".join(lines)
