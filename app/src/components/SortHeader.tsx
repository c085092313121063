// A sortable column header: a button that sorts by the column (again: the other way), with
// aria-sort on the header cell.
export interface SortState<K extends string> {
  k: K;
  desc: boolean;
}

export function SortHeader<K extends string>({ k, label, sort, setSort }: { k: K; label: string; sort: SortState<K>; setSort: (f: (s: SortState<K>) => SortState<K>) => void }) {
  return (
    <th scope="col" aria-sort={sort.k === k ? (sort.desc ? 'descending' : 'ascending') : 'none'}>
      <button className="th" onClick={() => setSort((s) => ({ k, desc: s.k === k ? !s.desc : false }))}>
        {label}
        {sort.k === k ? (sort.desc ? ' ▼' : ' ▲') : ''}
      </button>
    </th>
  );
}
