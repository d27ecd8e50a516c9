// Every npm script runs this first: the project runs on Node 24 LTS, pinned as the `node`
// devDependency so that `npm ci` brings it and `npm run` puts it first on PATH.
const major = Number(process.versions.node.split('.')[0]);
if (major !== 24) {
  console.error(
    `traffic-management needs Node 24 LTS, but this is Node ${process.versions.node} (${process.execPath}).\n` +
      'Run `npm ci` first: it installs Node 24 as a devDependency, and `npm run …` uses it.',
  );
  process.exit(1);
}
