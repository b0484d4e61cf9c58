/** @module The version printed by `telehook --version`, taken from this package at build time. */
import pkg from '../package.json' with { type: 'json' }

export const VERSION: string = pkg.version
