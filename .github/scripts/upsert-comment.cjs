// Posts or updates the one plan comment of a stack on a pull request. The comment is found by
// its hidden marker (`<!-- homebrew-dev-plan:<stack> -->`) across every page of comments, so a
// busy pull request never gets a second copy. Used from actions/github-script.
"use strict";
const fs = require("node:fs");

/**
 * @param {{ github: any, context: any, stack: string, file: string }} args
 * @returns {Promise<"created" | "updated">}
 */
async function upsertComment({ github, context, stack, file }) {
  const marker = `<!-- homebrew-dev-plan:${stack} -->`;
  const body = fs.readFileSync(file, "utf8");
  if (!body.startsWith(marker)) {
    throw new Error(`${file} does not start with the marker ${marker}`);
  }
  const { owner, repo } = context.repo;
  const issue_number = context.issue.number;
  const comments = await github.paginate(github.rest.issues.listComments, {
    owner,
    repo,
    issue_number,
    per_page: 100,
  });
  const existing = comments.find((c) => typeof c.body === "string" && c.body.startsWith(marker));
  if (existing) {
    await github.rest.issues.updateComment({ owner, repo, comment_id: existing.id, body });
    return "updated";
  }
  await github.rest.issues.createComment({ owner, repo, issue_number, body });
  return "created";
}

module.exports = { upsertComment };
