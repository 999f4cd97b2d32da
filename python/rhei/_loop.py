"""How a call running on a worker thread reports back to the event loop, without polling.

Each event loop gets one channel (an eventfd the workers signal when a call finishes):
asyncio watches it with ``loop.add_reader``; trio with a system task blocked in
``wait_readable``. A finished call wakes exactly the task that awaits it. Cancelling that
task cancels the call: a call still queued never runs, a running read is interrupted
(rhei_interrupt; other reads it hit are run again), a running write completes.
"""
import asyncio
import os
import sys
import threading
import weakref

from . import _rhei

_aio_channels: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


class _AioChannel:
    """The channel of one asyncio loop. Holds no reference to the loop (it is the weak key)."""

    __slots__ = ("chan",)

    def __init__(self, loop):
        self.chan = _rhei.Channel()
        # wake() sets each finished call's future (unless cancelled) in C: no Python frame
        loop.add_reader(self.chan.fileno(), self.chan.wake)


# The channel of the loop the last call ran on: most programs run one loop, and the
# WeakKeyDictionary lookup makes a weakref per call. (loop ref, channel); the ref is weak
# so a closed loop is not kept alive (its channel, one eventfd, is until another loop's
# call replaces it).
_aio_last = (lambda: None, None)


def _aio_channel(loop):
    global _aio_last
    ref, ch = _aio_last
    if ref() is loop:
        return ch
    ch = _aio_channels.get(loop)
    if ch is None:
        ch = _aio_channels[loop] = _AioChannel(loop)
    _aio_last = (weakref.ref(loop), ch.chan)
    return ch.chan


_trio_var = None


def _trio_channel(trio):
    global _trio_var
    if _trio_var is None:
        _trio_var = trio.lowlevel.RunVar("rhei_channel")
    ch = _trio_var.get(None)
    if ch is None:
        ch = _rhei.Channel()
        _trio_var.set(ch)
        trio.lowlevel.spawn_system_task(_trio_pump, trio, ch, name="rhei completions")
    return ch


async def _trio_pump(trio, ch):
    reschedule = trio.lowlevel.reschedule
    wait_readable = trio.lowlevel.wait_readable
    fd = ch.fileno()
    while True:
        await wait_readable(fd)
        ch.wake(reschedule)  # reschedule(task) of each finished call's task, in C


async def _wait_trio(trio, call):
    ch = _trio_channel(trio)
    call.waiter = trio.lowlevel.current_task()
    call.submit(ch)

    def abort(raise_cancel):
        call.waiter = None
        call.cancel()
        return trio.lowlevel.Abort.SUCCEEDED

    await trio.lowlevel.wait_task_rescheduled(abort)
    return call.result()


_get_running_loop = asyncio._get_running_loop
_get_ident = threading.get_ident
# asyncio._get_running_loop costs a getpid() system call on Python 3.11 (~3 us on this VM,
# about a tenth of an awaited call's handoff). A loop whose run_forever is running on this
# very thread (BaseEventLoop._thread_id; loops without it take the slow path) is this
# thread's running loop: one thread runs one loop at a time and a running loop cannot move.
# A forked child starts over, where asyncio's own pid check answers.
def _no_loop():
    return None


_last_loop = _no_loop  # a weak reference to the last loop found running, once there is one


def _forget_loop():
    global _last_loop
    _last_loop = _no_loop


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_loop)


def _running_loop():
    global _last_loop
    loop = _last_loop()
    if loop is not None and getattr(loop, "_thread_id", None) == _get_ident():
        return loop
    loop = _get_running_loop()
    if loop is not None:
        _last_loop = weakref.ref(loop)
    return loop


async def wait(call):
    """Run ``call`` on a worker thread and return its outcome (or raise its error)."""
    loop = _running_loop()
    if loop is not None:  # asyncio, inline: one coroutine frame per call, not two
        fut = loop.create_future()
        call.waiter = fut
        call.submit(_aio_channel(loop))
        try:
            await fut
        except BaseException:
            call.waiter = None
            call.cancel()
            raise
        return call.result()
    trio = sys.modules.get("trio")
    if trio is not None:
        return await _wait_trio(trio, call)
    raise RuntimeError("rhei's async API needs a running asyncio or trio event loop")
