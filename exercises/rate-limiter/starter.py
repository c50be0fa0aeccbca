# starter.py - rate-limiter: lets every caller through at once.  Make
# acquire() wait so that at most `rate` calls return in any `per` seconds.


class RateLimiter:
    def __init__(self, rate, per):
        self.rate = rate
        self.per = per

    async def acquire(self):
        return
