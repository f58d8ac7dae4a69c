// Container ids and the friendly names Docker users know ("eager_turing").
import { randomBytes } from 'node:crypto';

const ADJECTIVES = ['brave', 'calm', 'clever', 'eager', 'gentle', 'happy', 'jolly', 'keen', 'lucid', 'merry', 'nimble', 'quiet', 'sharp', 'swift', 'tender', 'vivid', 'wise', 'zen'];
const SCIENTISTS = ['babbage', 'curie', 'dijkstra', 'hopper', 'kernighan', 'lamport', 'liskov', 'lovelace', 'noether', 'ritchie', 'shannon', 'thompson', 'torvalds', 'turing', 'wozniak', 'hamilton', 'knuth', 'tanenbaum'];

export function newContainerId(): string {
  return randomBytes(32).toString('hex');
}

export function randomName(taken: (name: string) => boolean): string {
  for (let i = 0; i < 100; i++) {
    const a = ADJECTIVES[randomBytes(1)[0] % ADJECTIVES.length];
    const b = SCIENTISTS[randomBytes(1)[0] % SCIENTISTS.length];
    const name = i < 10 ? `${a}_${b}` : `${a}_${b}${i}`;
    if (!taken(name)) return name;
  }
  return `glassbox_${randomBytes(4).toString('hex')}`;
}
