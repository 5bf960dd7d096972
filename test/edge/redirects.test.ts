import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CloudflarePlan, ConfigError, type RedirectSpec } from "../../components/config";
import {
  BULK_LIST_ITEMS,
  PLAN_LIMITS,
  bulkListName,
  jumpHash,
  placementOf,
  planRedirects,
  type RedirectPlan,
} from "../../components/edge";
import { generateRedirects, redirect } from "./fixtures";

const ZONE = "example.com";
const TIERS = Object.values(CloudflarePlan);

function plan(redirects: RedirectSpec[], tier: CloudflarePlan = "enterprise"): RedirectPlan {
  return planRedirects(redirects, tier, { zone: ZONE });
}

function problems(redirects: RedirectSpec[], tier: CloudflarePlan = "enterprise"): string[] {
  try {
    plan(redirects, tier);
    return [];
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).problems];
  }
}

/** Input positions in the plan: single rules, then bulk items. */
function landed(p: RedirectPlan): number[] {
  return [
    ...p.single.rules.map((r) => r.index),
    ...p.bulk.lists.flatMap((l) => l.items.map((i) => i.index)),
  ];
}

function assertWithinLimits(p: RedirectPlan, tier: CloudflarePlan): void {
  const limits = PLAN_LIMITS[tier];
  expect(p.single.rules.length).toBeLessThanOrEqual(limits.singleRedirectRules);
  expect(p.bulk.lists.length).toBeLessThanOrEqual(limits.bulkRedirectLists);
  const items = p.bulk.lists.reduce((n, l) => n + l.items.length, 0);
  expect(items).toBeLessThanOrEqual(limits.bulkRedirectItems);
  expect(p.bulk.rules.map((r) => r.listName)).toEqual(p.bulk.lists.map((l) => l.name));
  for (const l of p.bulk.lists) {
    expect(l.items.length).toBeGreaterThan(0);
    expect(l.name).toMatch(/^[a-z0-9_]{1,50}$/);
  }
}

const slug = fc.stringMatching(/^[a-z0-9]{1,10}$/);

/** Redirects without chains or loops: exact ones under /s/, wildcards under /w/, targets under /t/. */
const safeRedirects = (maxLength: number) =>
  fc
    .uniqueArray(fc.tuple(slug, fc.boolean(), fc.constantFrom(301, 302, 307, 308)), {
      maxLength,
      selector: ([s, wildcard]) => `${s}${wildcard}`,
    })
    .map((entries) =>
      entries.map(([s, wildcard, status]) =>
        wildcard
          ? redirect(`https://www.${ZONE}/w/${s}/*`, `https://www.${ZONE}/t/w-${s}/\${1}`, {
              status,
            })
          : redirect(`https://www.${ZONE}/s/${s}`, `https://www.${ZONE}/t/s-${s}`, { status }),
      ),
    );

describe("placement", () => {
  it("wildcards are single rules, exact URLs are bulk items", () => {
    expect(placementOf({ source: "https://example.com/docs/*" })).toBe("single");
    expect(placementOf({ source: "https://*.example.com/" })).toBe("single");
    expect(placementOf({ source: "https://example.com/docs" })).toBe("bulk");
  });

  it("renders a wildcard rule with wildcard_replace and an exact one as a list item", () => {
    const p = plan([
      redirect("https://example.com/*", "https://www.example.com/${1}", { status: 308 }),
      redirect("https://old.example.com/*", "https://www.example.com/", {
        preserveQueryString: false,
      }),
      redirect("https://www.example.com/old", "https://www.example.com/new", {
        subpathMatching: true,
        preservePathSuffix: true,
      }),
    ]);
    expect(p.single.rules).toEqual([
      {
        index: 0,
        ref: expect.stringMatching(/^redirect_[0-9a-f]{16}$/),
        description: "https://example.com/* → https://www.example.com/${1}",
        expression: 'http.request.full_uri wildcard "https://example.com/*"',
        statusCode: 308,
        preserveQueryString: true,
        targetUrl: {
          expression:
            'wildcard_replace(http.request.full_uri, "https://example.com/*", "https://www.example.com/${1}")',
        },
      },
      {
        index: 1,
        ref: expect.stringMatching(/^redirect_[0-9a-f]{16}$/),
        description: "https://old.example.com/* → https://www.example.com/",
        expression: 'http.request.full_uri wildcard "https://old.example.com/*"',
        statusCode: 301,
        preserveQueryString: false,
        targetUrl: { value: "https://www.example.com/" },
      },
    ]);
    expect(p.bulk).toEqual({
      lists: [
        {
          key: "1",
          name: "example_com_redirects_1",
          items: [
            {
              index: 2,
              sourceUrl: "https://www.example.com/old",
              targetUrl: "https://www.example.com/new",
              statusCode: 301,
              preserveQueryString: true,
              preservePathSuffix: true,
              subpathMatching: true,
              includeSubdomains: false,
            },
          ],
        },
      ],
      rules: [
        {
          ref: "example_com_redirects_1",
          description: "bulk redirects of the list example_com_redirects_1",
          expression: "http.request.full_uri in $example_com_redirects_1",
          listName: "example_com_redirects_1",
          key: "http.request.full_uri",
        },
      ],
    });
  });

  it("names lists after the zone, within Cloudflare's 50 characters", () => {
    expect(bulkListName("example.com", "3")).toBe("example_com_redirects_3");
    expect(bulkListName(undefined, "1")).toBe("redirects_1");
    const long = bulkListName(`${"a".repeat(60)}.example.com`, "12");
    expect(long).toMatch(/^a+_[0-9a-f]{8}_redirects_12$/);
    expect(long.length).toBeLessThanOrEqual(50);
  });
});

describe("planRedirects properties", () => {
  it("puts every redirect in exactly one place: a single rule or a bulk item", () => {
    fc.assert(
      fc.property(safeRedirects(60), (redirects) => {
        const p = plan(redirects);
        expect(landed(p).sort((a, b) => a - b)).toEqual(redirects.map((_, i) => i));
        for (const r of p.single.rules) expect(placementOf(redirects[r.index]!)).toBe("single");
        for (const l of p.bulk.lists) {
          for (const i of l.items) expect(placementOf(redirects[i.index]!)).toBe("bulk");
        }
      }),
      { numRuns: 200 },
    );
  });

  it("keeps every tier's limits, or fails naming the limit", () => {
    fc.assert(
      fc.property(safeRedirects(80), fc.constantFrom(...TIERS), (redirects, tier) => {
        const singles = redirects.filter((r) => placementOf(r) === "single").length;
        const limit = PLAN_LIMITS[tier].singleRedirectRules;
        if (singles > limit) {
          expect(problems(redirects, tier)).toEqual([
            `homebrew-dev:edge.redirects: ${singles} wildcard redirects need ${singles} single-redirect rules; the ${tier} plan allows ${limit} per zone`,
          ]);
          return;
        }
        assertWithinLimits(plan(redirects, tier), tier);
      }),
      { numRuns: 200 },
    );
  });

  it("rejects every loop, naming each redirect in it", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(slug, { minLength: 2, maxLength: 6 }),
        safeRedirects(20),
        fc.nat(),
        (cycle, others, at) => {
          const loop = cycle.map((s, i) =>
            redirect(
              `https://www.${ZONE}/l/${s}`,
              `https://www.${ZONE}/l/${cycle[(i + 1) % cycle.length]}`,
            ),
          );
          const insertAt = at % (others.length + 1);
          const all = [...others.slice(0, insertAt), ...loop, ...others.slice(insertAt)];
          const found = problems(all).filter((m) => m.includes("redirect loop: "));
          expect(found).toHaveLength(1);
          const members = loop.map((_, i) => `edge.redirects[${insertAt + i}]`);
          for (const m of members) expect(found[0]).toContain(m);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("is deterministic, and the bulk lists do not depend on the order of the stack", () => {
    fc.assert(
      fc.property(safeRedirects(60), fc.constantFrom(...TIERS), (redirects, tier) => {
        fc.pre(redirects.filter((r) => placementOf(r) === "single").length <= 10);
        expect(plan(redirects, tier)).toEqual(plan(redirects, tier));
        const lists = (p: RedirectPlan) =>
          p.bulk.lists.map((l) => [l.name, l.items.map((i) => i.sourceUrl)]);
        expect(lists(plan([...redirects].reverse(), tier))).toEqual(lists(plan(redirects, tier)));
      }),
      { numRuns: 100 },
    );
  });

  it("moves only the items that must move when the number of lists grows", () => {
    const keys = Array.from({ length: 5000 }, (_, i) => BigInt(i) * 0x9e3779b97f4a7c15n);
    for (let n = 1; n < 25; n++) {
      const moved = keys.filter((k) => jumpHash(k, n) !== jumpHash(k, n + 1));
      // Only to the new list, and about 1/(n+1) of them.
      expect(moved.every((k) => jumpHash(k, n + 1) === n)).toBe(true);
      expect(moved.length / keys.length).toBeLessThan(2 / (n + 1));
    }
  });

  it("changes one list when one redirect is added", () => {
    const base = generateRedirects(2500);
    const before = plan(base);
    const after = plan([
      ...base,
      redirect("https://www.example.com/added", "https://www.example.com/x"),
    ]);
    expect(after.bulk.lists.map((l) => l.name)).toEqual(before.bulk.lists.map((l) => l.name));
    const changed = after.bulk.lists.filter(
      (l, i) => l.items.length !== before.bulk.lists[i]!.items.length,
    );
    expect(changed).toHaveLength(1);
  });
});

describe("planRedirects at scale", () => {
  it("plans 10,000 redirects on enterprise: each once, within the limits", () => {
    const redirects = generateRedirects(10_000, ZONE, 100);
    const p = plan(redirects);
    expect(landed(p).sort((a, b) => a - b)).toEqual(redirects.map((_, i) => i));
    expect(p.single.rules).toHaveLength(100);
    expect(p.bulk.lists).toHaveLength(Math.ceil(9_900 / BULK_LIST_ITEMS));
    assertWithinLimits(p, "enterprise");
  });

  it.each(TIERS)("%s: lists stay within the account quota", (tier) => {
    const limits = PLAN_LIMITS[tier];
    const p = plan(generateRedirects(Math.min(limits.bulkRedirectItems, 12_000)), tier);
    expect(p.bulk.lists).toHaveLength(
      Math.min(
        limits.bulkRedirectLists,
        Math.ceil(Math.min(limits.bulkRedirectItems, 12_000) / BULK_LIST_ITEMS),
      ),
    );
    assertWithinLimits(p, tier);
  });
});

describe("planRedirects rejects", () => {
  it("a target that is not https", () => {
    expect(problems([redirect("https://example.com/a", "http://example.com/b")])).toEqual([
      'homebrew-dev:edge.redirects[0]: target must be an https:// URL (got "http://example.com/b")',
    ]);
  });

  it("a status code other than 301, 302, 307 and 308", () => {
    const r = { ...redirect("https://example.com/a", "https://example.com/b"), status: 303 };
    expect(problems([r as RedirectSpec])).toEqual([
      "homebrew-dev:edge.redirects[0]: status must be one of 301, 302, 307, 308 (got 303)",
    ]);
  });

  it("two redirects of one source", () => {
    expect(
      problems([
        redirect("https://example.com/a", "https://example.com/b"),
        redirect("https://example.com/c", "https://example.com/d"),
        redirect("https://EXAMPLE.com/a", "https://example.com/e"),
      ]),
    ).toEqual([
      "homebrew-dev:edge.redirects[2]: duplicate source https://EXAMPLE.com/a (also edge.redirects[0])",
    ]);
  });

  it("a redirect to its own source", () => {
    expect(problems([redirect("https://example.com/a", "https://example.com/a")])).toEqual([
      "homebrew-dev:edge.redirects[0]: source and target are the same URL (https://example.com/a)",
    ]);
  });

  it("a chain, naming both redirects", () => {
    expect(
      problems([
        redirect("https://example.com/a", "https://example.com/b"),
        redirect("https://example.com/b", "https://example.com/c"),
      ]),
    ).toEqual([
      "homebrew-dev:edge.redirects[0]: its target https://example.com/b is redirected again by edge.redirects[1] (https://example.com/b): redirect straight to the final URL instead of chaining",
    ]);
  });

  it("a chain through a subpath or a wildcard source", () => {
    expect(
      problems([
        redirect("https://example.com/a", "https://example.com/docs/v1/intro"),
        redirect("https://example.com/docs/v1", "https://example.com/archive/v1", {
          subpathMatching: true,
          preservePathSuffix: true,
        }),
        redirect("https://example.com/b", "https://blog.example.com/2024/post"),
        redirect("https://blog.example.com/*", "https://www.example.com/news/${1}"),
      ]),
    ).toEqual([
      "homebrew-dev:edge.redirects[0]: its target https://example.com/docs/v1/intro is redirected again by edge.redirects[1] (https://example.com/docs/v1): redirect straight to the final URL instead of chaining",
      "homebrew-dev:edge.redirects[2]: its target https://blog.example.com/2024/post is redirected again by edge.redirects[3] (https://blog.example.com/*): redirect straight to the final URL instead of chaining",
    ]);
  });

  it("a loop", () => {
    expect(
      problems([
        redirect("https://example.com/a", "https://example.com/b"),
        redirect("https://example.com/x", "https://example.com/y"),
        redirect("https://example.com/b", "https://example.com/a"),
      ]),
    ).toEqual([
      "homebrew-dev:edge.redirects[0]: redirect loop: edge.redirects[0] → edge.redirects[2] → edge.redirects[0]",
    ]);
  });

  it("a redirect its own source catches again", () => {
    expect(
      problems([
        redirect("https://example.com/*", "https://example.com/new/${1}"),
        redirect("https://www.example.com/docs", "https://www.example.com/docs/v2", {
          subpathMatching: true,
        }),
      ]),
    ).toEqual([
      "homebrew-dev:edge.redirects[0]: its target https://example.com/new/${1} is matched by its own source https://example.com/*: a redirect loop",
      "homebrew-dev:edge.redirects[1]: its target https://www.example.com/docs/v2 is matched by its own source https://www.example.com/docs: a redirect loop",
    ]);
  });

  it("wildcard redirects that do not fit a rule of the zone", () => {
    expect(
      problems([
        redirect("https://example.net/*", "https://example.com/${1}"),
        redirect("https://example.com/a/*", "https://example.com/b/${2}", {
          subpathMatching: true,
          includeSubdomains: true,
        }),
      ]),
    ).toEqual([
      "homebrew-dev:edge.redirects[0]: a wildcard redirect is a rule of the zone example.com, so its source must be in that zone (got example.net)",
      "homebrew-dev:edge.redirects[1]: target uses ${2} but the source has only 1 wildcard",
      "homebrew-dev:edge.redirects[1]: subpathMatching, includeSubdomains apply only to exact-URL (bulk) redirects; a wildcard source matches with * instead",
    ]);
  });

  it("exact-URL redirects Cloudflare's lists cannot hold", () => {
    expect(
      problems([
        redirect("https://example.com/a?x=1", "https://example.com/b"),
        redirect("https://example.com/c", "https://example.com/d?y=2"),
        redirect("https://example.com/e", "https://example.com/f/${1}"),
        redirect("https://example.com/g", "https://example.com/h", { preservePathSuffix: true }),
      ]),
    ).toEqual([
      'homebrew-dev:edge.redirects[0]: an exact-URL source matches scheme, host and path only (got "https://example.com/a?x=1")',
      'homebrew-dev:edge.redirects[1]: a target with a query string needs preserveQueryString: false (got "https://example.com/d?y=2")',
      "homebrew-dev:edge.redirects[2]: target uses ${1} but the source has no wildcard",
      "homebrew-dev:edge.redirects[3]: preservePathSuffix needs subpathMatching (only a subpath match leaves a suffix to keep)",
    ]);
  });

  it.each(TIERS)("%s: one wildcard redirect more than the zone's rules", (tier) => {
    const limit = PLAN_LIMITS[tier].singleRedirectRules;
    expect(problems(generateRedirects(limit, ZONE, 1), tier)).toEqual([]);
    expect(problems(generateRedirects(limit + 1, ZONE, 1), tier)).toEqual([
      `homebrew-dev:edge.redirects: ${limit + 1} wildcard redirects need ${limit + 1} single-redirect rules; the ${tier} plan allows ${limit} per zone`,
    ]);
  });

  it.each(["free", "pro"] as const)(
    "%s: one exact-URL redirect more than the account's items",
    (tier) => {
      const limit = PLAN_LIMITS[tier].bulkRedirectItems;
      expect(problems(generateRedirects(limit), tier)).toEqual([]);
      expect(problems(generateRedirects(limit + 1), tier)).toEqual([
        `homebrew-dev:edge.redirects: ${limit + 1} exact-URL redirects need ${limit + 1} bulk-redirect list items; the ${tier} plan allows ${limit} per account`,
      ]);
    },
  );
});
