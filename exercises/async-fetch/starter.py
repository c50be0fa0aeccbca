# starter.py - async-fetch: correct results, one fetch at a time.
# Make it keep up to `limit` fetches in flight.


async def fetch_all(urls, fetch, limit):
    results = []
    for url in urls:
        results.append(await fetch(url))
    return results
