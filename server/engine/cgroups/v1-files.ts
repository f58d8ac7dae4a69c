// The v1 files the driver writes and reads, by controller: Docker's device rules, the blkio
// throttle files, and memory.stat's v1 names for what CgroupStats calls by their v2 names.

/** Docker's default device rules: deny everything, then allow the standard character devices. */
export const DEVICE_ALLOW_RULES = [
  'c 1:3 rwm', // null
  'c 1:5 rwm', // zero
  'c 1:7 rwm', // full
  'c 1:8 rwm', // random
  'c 1:9 rwm', // urandom
  'c 5:0 rwm', // tty
  'c 5:1 rwm', // console
  'c 5:2 rwm', // ptmx
  'c 136:* rwm', // pts
  'c *:* m', // mknod of any char device
  'b *:* m', // mknod of any block device
];

export const BLKIO_FILES = {
  readBps: 'blkio.throttle.read_bps_device',
  writeBps: 'blkio.throttle.write_bps_device',
  readIops: 'blkio.throttle.read_iops_device',
  writeIops: 'blkio.throttle.write_iops_device',
} as const;

/** v1 memory.stat names -> the common (v2) names CgroupStats uses. */
export const V1_STAT_NAMES: Record<string, string> = {
  rss: 'anon',
  cache: 'file',
  rss_huge: 'anon_thp',
  mapped_file: 'file_mapped',
  dirty: 'file_dirty',
  writeback: 'file_writeback',
  shmem: 'shmem',
  swap: 'swap',
  active_anon: 'active_anon',
  inactive_anon: 'inactive_anon',
  active_file: 'active_file',
  inactive_file: 'inactive_file',
  unevictable: 'unevictable',
  pgfault: 'pgfault',
  pgmajfault: 'pgmajfault',
  workingset_refault_anon: 'workingset_refault_anon',
  workingset_refault_file: 'workingset_refault_file',
};
