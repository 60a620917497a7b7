// Vite's `?raw` imports: the file's text, bundled into the test so that it runs inside workerd.
declare module "*?raw" {
  const text: string;
  export default text;
}
