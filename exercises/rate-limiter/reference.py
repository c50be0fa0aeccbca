# reference.py - rate-limiter: a sliding window of the last `rate` grant
# times; a caller waits (without holding the lock) until the oldest grant
# leaves the window.
import asyncio
import collections


class RateLimiter:
    def __init__(self, rate, per):
        self.rate = rate
        self.per = per
        self.grants = collections.deque()
        self.lock = asyncio.Lock()

    async def acquire(self):
        loop = asyncio.get_running_loop()
        async with self.lock:
            while len(self.grants) >= self.rate:
                wait = self.grants[0] + self.per - loop.time()
                if wait <= 0:
                    self.grants.popleft()
                else:
                    await asyncio.sleep(wait)
            self.grants.append(loop.time())
