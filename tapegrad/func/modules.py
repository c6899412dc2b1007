"""``torch.func``'s module helpers: ``functional_call`` (a module run with other parameters
and buffers) and ``stack_module_state`` (the parameters of several models stacked, for vmap)."""
from __future__ import annotations

__all__ = ["functional_call", "stack_module_state"]


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights: bool = True, strict: bool = False):
    """Call ``module`` with some of its parameters and buffers replaced by the tensors in
    ``parameter_and_buffer_dicts`` (a dict, or a sequence of dicts, keyed by
    ``named_parameters``/``named_buffers`` names); the module is restored afterwards."""
    dicts = parameter_and_buffer_dicts
    if isinstance(dicts, dict):
        merged = dict(dicts)
    else:
        merged = {}
        for d in dicts:
            for k, v in d.items():
                if k in merged:
                    raise ValueError(f"{k} appeared in multiple dictionaries; behavior of "
                                     "functional call is ambiguous")
                merged[k] = v
    if strict:
        expected = {n for n, _ in module.named_parameters()} | \
            {n for n, _ in module.named_buffers()}
        missing = sorted(expected - set(merged))
        unexpected = sorted(set(merged) - expected)
        if missing or unexpected:
            parts = []
            if unexpected:
                parts.append("Unexpected key(s): " + ", ".join(repr(k) for k in unexpected))
            if missing:
                parts.append("Missing key(s): " + ", ".join(repr(k) for k in missing))
            raise RuntimeError("Error(s) in reparametrizing for {}:\n\t{}".format(
                type(module).__name__, ".\n\t".join(parts) + "."))
    if tie_weights:  # a tensor given for one name of a shared parameter replaces every name
        shared: dict[int, list] = {}
        for name, t in _all_names(module):
            shared.setdefault(id(t), []).append(name)
        for names in shared.values():
            given = [n for n in names if n in merged]
            if given:
                for n in names:
                    merged.setdefault(n, merged[given[0]])
    saved = []
    try:
        for name, value in merged.items():
            owner, attr = _owner(module, name)
            store = owner._parameters if attr in owner._parameters else \
                owner._buffers if attr in owner._buffers else None
            if store is None:
                prev = owner.__dict__.get(attr, _MISSING)
                object.__setattr__(owner, attr, value)
                saved.append((owner.__dict__, attr, prev))
            else:
                saved.append((store, attr, store[attr]))
                store[attr] = value
        if args is None:
            args = ()
        elif not isinstance(args, tuple):
            args = (args,)
        return module(*args, **(kwargs or {}))
    finally:
        for store, attr, prev in reversed(saved):
            if prev is _MISSING:
                store.pop(attr, None)
            else:
                store[attr] = prev


_MISSING = object()


def _all_names(module, prefix: str = "", path: tuple = ()):
    """Every ``(qualified name, tensor)`` of the parameters and buffers, a shared one under
    each of its names (``named_parameters`` gives each once)."""
    if id(module) in path:
        return
    path = path + (id(module),)
    for store in (module._parameters, module._buffers):
        for name, t in store.items():
            if t is not None:
                yield prefix + name, t
    for name, m in module._modules.items():
        if m is not None:
            yield from _all_names(m, prefix + name + ".", path)


def _owner(module, name: str):
    *path, attr = name.split(".")
    for p in path:
        module = getattr(module, p)
    return module, attr


def stack_module_state(models) -> tuple[dict, dict]:
    """``(params, buffers)``: each parameter and buffer of ``models`` (modules of one kind)
    stacked along a new first dimension; stacked parameters are fresh leaves that require grad
    when the originals do."""
    from ..forward import stack
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or not any(m.training for m in models)):
        raise RuntimeError("stack_module_state: Expected all models to have the same "
                           "training/eval mode.")
    kind = type(models[0])
    if not all(type(m) is kind for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")

    def stacked(named):
        out = {}
        for name in [n for n, _ in named(models[0])]:
            ts = [dict(named(m))[name] for m in models]
            res = stack([t.detach() for t in ts])
            out[name] = res.requires_grad_() if any(t.requires_grad for t in ts) else res
        return out

    return (stacked(lambda m: list(m.named_parameters())),
            stacked(lambda m: list(m.named_buffers())))
