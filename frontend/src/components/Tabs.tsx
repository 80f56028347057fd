import { NavLink } from "react-router-dom";

/** Sub-navigation between the sections of a page (links, so each section has its own URL). */
export function SubNav({ label, items }: { label: string; items: [string, string][] }) {
  return (
    <nav aria-label={label} className="subnav">
      <ul>
        {items.map(([to, text]) => (
          <li key={to}>
            <NavLink to={to} end>
              {text}
            </NavLink>
          </li>
        ))}
      </ul>
    </nav>
  );
}
