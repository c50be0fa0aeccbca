# reference.py - async-fetch: a fixed number of fetches in flight through a
# semaphore; gather keeps the results in input order.
import asyncio


async def fetch_all(urls, fetch, limit):
    sem = asyncio.Semaphore(limit)

    async def one(url):
        async with sem:
            return await fetch(url)

    return list(await asyncio.gather(*(one(u) for u in urls)))
