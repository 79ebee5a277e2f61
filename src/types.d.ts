declare module 'snowball-stemmers' {
  interface Stemmer { stem(word: string): string }
  const snowball: { newStemmer(name: string): Stemmer; algorithms(): string[] };
  export default snowball;
}
declare module 'stopword' {
  const lists: Record<string, string[]>;
  export default lists;
}
