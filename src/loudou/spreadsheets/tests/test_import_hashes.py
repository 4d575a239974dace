"""The external ids an import created are remembered compactly (bulkload.hashes.Hashes), and answer
like a set."""

import itertools
import math
import random

from django.test import SimpleTestCase

from loudou.bulkload.hashes import Hashes


class HashesTests(SimpleTestCase):
    def test_answers_like_a_set(self):
        rng = random.Random(1)
        hashes, added = Hashes(), set()
        for batch in range(60):
            texts = [f"X{rng.randrange(100_000)}" for _ in range(rng.randrange(0, 400))]
            asked = [f"X{rng.randrange(100_000)}" for _ in range(300)]
            self.assertEqual(hashes.contains(asked), [t in added for t in asked], batch)
            hashes.add(texts)
            added.update(texts)
        self.assertEqual(hashes.contains(sorted(added)), [True] * len(added))

    def test_runs_stay_few(self):
        hashes = Hashes()
        for batch in range(1000):
            hashes.add([f"E{batch}-{i}" for i in range(100)])
        # Runs at least double in size: about log2(batches) of them at most.
        self.assertLessEqual(len(hashes.runs), math.log2(1000) + 1)
        self.assertEqual(sum(len(run) for run in hashes.runs), 100_000)
        self.assertTrue(all(len(a) > 2 * len(b) for a, b in itertools.pairwise(hashes.runs)))

    def test_nothing_added_or_asked(self):
        hashes = Hashes()
        hashes.add([])
        self.assertEqual(hashes.contains(["a"]), [False])
        self.assertEqual(hashes.contains([]), [])
        self.assertEqual(hashes.runs, [])
