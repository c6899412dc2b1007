"""``tapegrad.autograd.graph``: hooks on saved tensors, as ``torch.autograd.graph``.

Inside ``saved_tensors_hooks(pack_hook, unpack_hook)`` every tensor an op saves for backward
(the inputs and outputs of built-in ops, and what a custom Function's ``ctx.save_for_backward``
saves) is passed to ``pack_hook`` when it is saved; backward calls ``unpack_hook`` on what pack
returned and uses the tensor it gives back. Hooks are per thread and nest (the innermost wins).

One difference from PyTorch: tapegrad's engines read the saved arrays directly, so the record
keeps its own reference to them. Hooks see every saved tensor, and what ``unpack_hook`` returns
is what the gradient is computed from; but packing does not free memory (``save_on_cpu`` is,
on this CPU-only library, a copy that changes nothing).
"""
from __future__ import annotations

from ..graph import ACTIVE, STACKS, Node


class _OnHookStack:
    """A context manager that puts an entry on this thread's saved-tensor hook stack while it is
    entered (and marks hooks as active, which the forward checks)."""

    def _push(self, entry):
        STACKS.stack.append(entry)
        ACTIVE.append(self)
        return self

    def __exit__(self, *exc) -> None:
        STACKS.stack.pop()
        ACTIVE.remove(self)


class saved_tensors_hooks(_OnHookStack):
    """Context manager: ``pack_hook(tensor) -> anything`` when a tensor is saved for backward,
    ``unpack_hook(packed) -> tensor`` when backward needs it."""

    def __init__(self, pack_hook, unpack_hook) -> None:
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self):
        for entry in STACKS.stack:
            if isinstance(entry, str):
                raise RuntimeError(entry)
        return self._push((self.pack_hook, self.unpack_hook))


class save_on_cpu(saved_tensors_hooks):
    """Saved tensors are packed as a copy on the CPU and restored to their device when
    backward needs them (every tensor is on the CPU here: the copy is all it does)."""

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        def pack(tensor):
            return (tensor.device, tensor.detach().clone())

        def unpack(packed):
            device, tensor = packed
            return tensor.to(device)

        super().__init__(pack, unpack)


class disable_saved_tensors_hooks(_OnHookStack):
    """Inside it, entering ``saved_tensors_hooks`` raises ``RuntimeError(error_message)``."""

    def __init__(self, error_message: str) -> None:
        self.error_message = error_message

    def __enter__(self):
        return self._push(self.error_message)


def get_gradient_edge(tensor):
    """(node, output_nr) of ``tensor`` in the graph."""
    from ..graph import node_for
    if tensor._slot is None:
        raise NotImplementedError("tapegrad: get_gradient_edge of a leaf is not supported")
    records = tensor._tape.records
    return (node_for(records[tensor._slot], records), 0)


__all__ = ["saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks", "Node",
           "get_gradient_edge"]
