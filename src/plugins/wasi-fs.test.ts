import assert from 'node:assert/strict';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { confine, E, parseMounts, WasiFs } from './wasi-fs.ts';

// path_open's arguments: lookup flags, oflags, rights.
const FOLLOW = 1;
const O_CREAT = 1;
const O_TRUNC = 8;
const READ = 2n;
const WRITE = 64n;

describe('settings.mounts (WASI preopens on node:fs)', () => {
  let top: string;
  let root: string;

  before(() => {
    top = realpathSync(mkdtempSync(join(tmpdir(), 'tm-wasi-fs-')));
    root = join(top, 'mnt');
    mkdirSync(join(root, 'sub', 'deep'), { recursive: true });
    writeFileSync(join(root, 'a.txt'), 'in the mount');
    writeFileSync(join(root, 'sub', 'b.txt'), 'in sub');
    writeFileSync(join(top, 'secret.txt'), 'outside');
    mkdirSync(join(top, 'elsewhere'));
    writeFileSync(join(top, 'elsewhere', 'c.txt'), 'outside too');
    symlinkSync(join(top, 'secret.txt'), join(root, 'out-file'));
    symlinkSync(join(top, 'elsewhere'), join(root, 'out-dir'));
    symlinkSync('a.txt', join(root, 'in-file'));
    symlinkSync(join(top, 'missing.txt'), join(root, 'dangling'));
  });

  after(() => rmSync(top, { recursive: true, force: true }));

  it("parses Traefik's entries: host, host:guest, a :ro suffix, and refuses more parts", () => {
    const m = parseMounts(['mnt', `${root}:/data`, `${root}/sub:/s:ro`, 'mnt:ro'], top);
    assert.deepEqual(m, [
      { host: root, guest: 'mnt', readOnly: true },
      { host: root, guest: '/data', readOnly: false },
      { host: join(root, 'sub'), guest: '/s', readOnly: true },
    ]);
    assert.equal(parseMounts(['/a:/b:/c'], top), 'invalid directory "/a:/b:/c"');
    assert.match(String(parseMounts(['nowhere:/x'], top)), /^mount "nowhere:\/x": .*ENOENT/);
    assert.match(String(parseMounts([`${root}/a.txt:/x`], top)), /is not a directory/);
  });

  it('a later entry with the same guest path replaces the earlier one in its place (wazero withMount)', () => {
    const m = parseMounts([`${root}:/data`, `${root}/sub:/s`, `${root}/sub/deep:data/`], top);
    assert.deepEqual(
      (m as { host: string; guest: string }[]).map((x) => [x.host, x.guest]),
      [
        [join(root, 'sub', 'deep'), 'data/'],
        [join(root, 'sub'), '/s'],
      ],
    );
  });

  it('resolves paths inside the mount, `..` included while it stays inside', () => {
    assert.equal(confine(root, root, 'a.txt', true), join(root, 'a.txt'));
    assert.equal(confine(root, root, './sub/../a.txt', true), join(root, 'a.txt'));
    assert.equal(confine(root, root, '.', true), root);
    assert.equal(confine(root, join(root, 'sub'), '../a.txt', true), join(root, 'a.txt'));
    assert.equal(confine(root, root, 'in-file', true), join(root, 'a.txt'));
    assert.equal(confine(root, root, 'new.txt', true), join(root, 'new.txt'));
  });

  it('refuses absolute paths, `..` out of the mount and links leading out (ENOTCAPABLE)', () => {
    const errno = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as { errno: number }).errno;
      }
      return 0;
    };
    assert.equal(
      errno(() => confine(root, root, '/etc/passwd', true)),
      E.NOTCAPABLE,
    );
    assert.equal(
      errno(() => confine(root, root, '../secret.txt', true)),
      E.NOTCAPABLE,
    );
    assert.equal(
      errno(() => confine(root, root, 'sub/../../secret.txt', true)),
      E.NOTCAPABLE,
    );
    assert.equal(
      errno(() => confine(root, join(root, 'sub'), '../../mnt/a.txt', true)),
      E.NOTCAPABLE,
    );
    assert.equal(
      errno(() => confine(root, root, 'out-file', true)),
      E.NOTCAPABLE,
    );
    // A link on the way is followed even without SYMLINK_FOLLOW (that flag is the last one's).
    assert.equal(
      errno(() => confine(root, root, 'out-dir/c.txt', false)),
      E.NOTCAPABLE,
    );
    assert.equal(
      errno(() => confine(root, root, 'dangling', true)),
      E.NOENT,
    );
    assert.equal(
      errno(() => confine(root, root, 'a\0b', true)),
      E.INVAL,
    );
  });

  it('opens and reads a file of the mount through its preopen; never one outside', () => {
    const fs = new WasiFs([{ host: root, guest: '/data', readOnly: true }]);
    assert.deepEqual(fs.prestat(3), Buffer.from('/data'));
    assert.equal(fs.prestat(4), null);
    const fd = fs.open(3, FOLLOW, 'sub/b.txt', 0, READ, 0);
    assert.equal(fd, 4);
    const f = fs.get(fd);
    assert.equal(f?.kind, 'file');
    const buf = Buffer.alloc(64);
    const n = fs.read(f as never, buf);
    assert.equal(buf.subarray(0, n).toString(), 'in sub');
    assert.equal(fs.seek(f as never, 3n, 0), 3);
    assert.equal(buf.subarray(0, fs.read(f as never, buf)).toString(), 'sub');
    assert.equal(fs.close(fd), E.SUCCESS);
    assert.equal(fs.close(fd), E.BADF);
    assert.equal(fs.close(3), E.NOTSUP);
    // Opened directories resolve from themselves, still inside the mount.
    const sub = fs.open(3, FOLLOW, 'sub', 0, READ, 0);
    assert.equal(fs.get(sub)?.kind, 'dir');
    assert.equal(fs.open(sub, FOLLOW, '../../secret.txt', 0, READ, 0), -E.NOTCAPABLE);
    assert.ok(fs.open(sub, FOLLOW, '../a.txt', 0, READ, 0) > 0);
    assert.equal(fs.open(3, FOLLOW, 'out-file', 0, READ, 0), -E.NOTCAPABLE);
    // Not following the last link: the link itself is not opened (O_NOFOLLOW).
    assert.equal(fs.open(3, 0, 'out-file', 0, READ, 0), -E.LOOP);
    assert.equal(fs.pathStat(3, FOLLOW, 'out-file'), E.NOTCAPABLE);
    assert.equal((fs.pathStat(3, 0, 'out-file') as { isSymbolicLink(): boolean }).isSymbolicLink(), true);
    const names = fs.entries(fs.get(3) as never).map((e) => e.name.toString());
    assert.deepEqual(names.slice(0, 2), ['.', '..']);
    assert.deepEqual(names.slice(2).sort(), ['a.txt', 'dangling', 'in-file', 'out-dir', 'out-file', 'sub']);
    fs.closeAll();
  });

  it('writes only on a mount without :ro (EROFS otherwise), and never through a link out', () => {
    const ro = new WasiFs([{ host: root, guest: '/data', readOnly: true }]);
    assert.equal(ro.open(3, FOLLOW, 'w.txt', O_CREAT | O_TRUNC, WRITE, 0), -E.ROFS);
    assert.equal(ro.open(3, FOLLOW, 'a.txt', 0, READ | WRITE, 0), -E.ROFS);
    assert.equal(ro.change(3, 'newdir', 'mkdir'), E.ROFS);
    const rw = new WasiFs([{ host: root, guest: '/data', readOnly: false }]);
    const fd = rw.open(3, FOLLOW, 'w.txt', O_CREAT | O_TRUNC, WRITE, 0);
    assert.ok(fd > 0);
    assert.equal(rw.write(rw.get(fd) as never, Buffer.from('written')), 7);
    assert.equal(rw.read(rw.get(fd) as never, Buffer.alloc(4)), -E.BADF);
    rw.close(fd);
    assert.equal(readFileSync(join(root, 'w.txt'), 'utf8'), 'written');
    assert.equal(rw.open(3, FOLLOW, 'dangling', O_CREAT, WRITE, 0), -E.NOENT);
    assert.equal(rw.open(3, FOLLOW, 'out-dir/new.txt', O_CREAT, WRITE, 0), -E.NOTCAPABLE);
    assert.equal(rw.open(3, FOLLOW, 'sub', 0, WRITE, 0), -E.ISDIR);
    assert.equal(rw.change(3, 'newdir', 'mkdir'), E.SUCCESS);
    assert.equal(rw.change(3, 'newdir', 'rmdir'), E.SUCCESS);
    assert.equal(rw.change(3, 'w.txt', 'unlink'), E.SUCCESS);
    assert.equal(rw.change(3, '../secret.txt', 'unlink'), E.NOTCAPABLE);
    assert.equal(readFileSync(join(top, 'secret.txt'), 'utf8'), 'outside');
  });
});
