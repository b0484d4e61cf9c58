/**
 * @module test/qs-options
 * `qs` configured as close to PHP as it goes (last duplicate wins, depth 16, no array-index
 * limit, null-prototype objects): the differential test and the benchmark compare against this.
 */
export const QS_OPTIONS = {
  depth: 16,
  parameterLimit: 10000,
  arrayLimit: 10000,
  duplicates: 'last',
  plainObjects: true,
} as const
