/** This release's version, as package.json and CHANGELOG.md say (a test keeps the three the same). */
export const VERSION = "0.3.0";
